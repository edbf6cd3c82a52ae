/**
 * The composite SPI suite again with every function in a runner process
 * (plrust.isolation = process, docs/ISOLATION.md): rows as query arguments
 * and the row-parsing request travel between processes as bytes.
 */
process.env.PLRUST_TEST_ISOLATION = 'process';
await import('../e2e/composite-spi.test.js');

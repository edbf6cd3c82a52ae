/**
 * The composite suite again with every function in a runner process
 * (plrust.isolation = process, docs/ISOLATION.md): rows travel between
 * processes as bytes and must arrive unchanged.
 */
process.env.PLRUST_TEST_ISOLATION = 'process';
await import('../e2e/composite.test.js');

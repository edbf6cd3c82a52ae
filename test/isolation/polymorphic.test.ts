/**
 * The inet and polymorphic suite again with every function in a runner
 * process (plrust.isolation = process, docs/ISOLATION.md): a polymorphic
 * value travels between processes as bytes and must arrive unchanged.
 */
process.env.PLRUST_TEST_ISOLATION = 'process';
await import('../e2e/polymorphic.test.js');

/**
 * The srf suite again with every function in a runner process
 * (plrust.isolation = process, docs/ISOLATION.md): the same assertions must
 * hold when function code runs outside the backend.
 */
process.env.PLRUST_TEST_ISOLATION = 'process';
await import('../e2e/srf.test.js');

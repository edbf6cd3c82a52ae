-- Calls every example function, with NULLs and arrays, after
-- target/plrust/functions.sql created them. Used by `npm run quickstart`.
\pset null '(null)'
\echo '--- strings.sql'
SELECT add_ints(1, 2) AS add_ints, greet('world') AS greet, greet(NULL) AS greet_null, reverse_text('PL/Rust') AS reverse_text;
SELECT sum_array(ARRAY[1, 2, NULL, 40]) AS sum_array, parse_int(' 42 ') AS parse_int, checked_div(10, 3) AS checked_div;
\echo '--- math.rs'
SELECT hypotenuse(3, 4) AS hypotenuse, array_mean(ARRAY[1.5, NULL, 2.5]::float8[]) AS array_mean, is_even(NULL) AS is_even_null, is_even(10) AS is_even;
SELECT fizzbuzz(15) AS fizzbuzz, xor_bytes('\x0102'::bytea, 255::int2) AS xor_bytes;
\echo '--- an Err becomes an ERROR (the transaction rolls back, the session goes on)'
\set ON_ERROR_STOP 0
SELECT checked_div(1, 0);
\set ON_ERROR_STOP 1
SELECT 'still serving' AS after_error;

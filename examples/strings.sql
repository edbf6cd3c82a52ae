-- PL/Rust functions as they are written for psql and migrations: the body
-- has upstream PL/Rust's meaning (arguments bound by name, Option<T> unless
-- STRICT, returns Result<Option<T>, Box<dyn Error + Send + Sync>>).

CREATE OR REPLACE FUNCTION add_ints(a int, b int) RETURNS int
    STRICT IMMUTABLE PARALLEL SAFE
    LANGUAGE plrust AS $$
    Ok(Some(a + b))
$$;

-- NULL-aware: without STRICT every argument is an Option.
CREATE FUNCTION public.greet(name text) RETURNS text
    LANGUAGE plrust
AS $body$
    Ok(Some(match name {
        Some(n) => format!("hello, {n}"),
        None => "hello, stranger".to_string(),
    }))
$body$;

CREATE FUNCTION reverse_text(s text) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(s.chars().rev().collect()))
$$;

CREATE FUNCTION checked_div(a bigint, b bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
    if b == 0 {
        return Err("division by zero is not allowed here".into());
    }
    Ok(Some(a / b))
$$;

CREATE FUNCTION sum_array(xs int[]) RETURNS bigint STRICT LANGUAGE plrust AS $$
    Ok(Some(xs.iter().flatten().map(i64::from).sum()))
$$;

CREATE FUNCTION parse_int(s text) RETURNS int STRICT LANGUAGE plrust AS $$
    let n: i32 = s.trim().parse()?;
    Ok(Some(n))
$$;

-- Unrelated statements are ignored by `plrust build`.
CREATE TABLE IF NOT EXISTS demo (id int);

-- PL/Rust 0.1. Runs as a superuser even when an unprivileged role installs
-- the extension (trusted = true): every name is schema-qualified, nothing is
-- created with OR REPLACE or IF NOT EXISTS, so objects planted beforehand in
-- the schema make the installation fail rather than being adopted.

\echo Use "CREATE EXTENSION plrust" to load this file. \quit

CREATE FUNCTION @extschema@.plrust_call_handler()
    RETURNS pg_catalog.language_handler
    AS 'MODULE_PATHNAME', 'plrust_call_handler'
    LANGUAGE C;

CREATE FUNCTION @extschema@.plrust_validator(pg_catalog.oid)
    RETURNS pg_catalog.void
    AS 'MODULE_PATHNAME', 'plrust_validator'
    LANGUAGE C STRICT;

CREATE TRUSTED LANGUAGE plrust
    HANDLER @extschema@.plrust_call_handler
    VALIDATOR @extschema@.plrust_validator;

COMMENT ON LANGUAGE plrust IS 'PL/Rust: trusted procedural language for Rust';

-- One compiled library per function definition and architecture. Keyed by
-- the definition hash (docs/COMPILE.md), not the function's OID, so the rows
-- survive pg_dump/restore; both architectures are kept so physical replicas
-- of either run the functions without a compiler. Only the owner (a
-- superuser) writes it: the handler does so on the users' behalf. Everyone
-- may read it, so that pg_dump works for any role: the libraries disclose
-- nothing that pg_proc.prosrc does not already show.
CREATE TABLE @extschema@.artifacts (
    definition_hash pg_catalog.text NOT NULL
        CHECK (definition_hash OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
    arch pg_catalog.text NOT NULL
        CHECK (arch OPERATOR(pg_catalog.=) ANY (ARRAY['x86_64', 'aarch64'])),
    abi_version pg_catalog.int4 NOT NULL,
    toolchain pg_catalog.text NOT NULL,
    sha256 pg_catalog.text NOT NULL
        CHECK (sha256 OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
    library pg_catalog.bytea NOT NULL,
    created_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (definition_hash, arch)
);

COMMENT ON TABLE @extschema@.artifacts IS
    'Compiled PL/Rust function libraries, by definition hash and architecture';

REVOKE ALL ON TABLE @extschema@.artifacts FROM PUBLIC;
GRANT SELECT ON TABLE @extschema@.artifacts TO PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.artifacts', '');

-- DROP FUNCTION (and DROP SCHEMA/OWNED/... CASCADE) leaves artifacts behind;
-- this removes those no function refers to any more. CREATE OR REPLACE is
-- handled by the validator.
CREATE FUNCTION @extschema@.plrust_on_sql_drop()
    RETURNS pg_catalog.event_trigger
    AS 'MODULE_PATHNAME', 'plrust_on_sql_drop'
    LANGUAGE C;

CREATE EVENT TRIGGER plrust_sql_drop ON sql_drop
    EXECUTE FUNCTION @extschema@.plrust_on_sql_drop();

-- A library is compiled for its function's STRICT attribute, so ALTER
-- FUNCTION may not change it (CREATE OR REPLACE recompiles instead).
CREATE FUNCTION @extschema@.plrust_on_ddl_start()
    RETURNS pg_catalog.event_trigger
    AS 'MODULE_PATHNAME', 'plrust_on_ddl_start'
    LANGUAGE C;

CREATE EVENT TRIGGER plrust_alter_function ON ddl_command_start
    WHEN TAG IN ('ALTER FUNCTION', 'ALTER ROUTINE')
    EXECUTE FUNCTION @extschema@.plrust_on_ddl_start();

-- The key a function's artifacts are stored under, as plrust build computes it.
CREATE FUNCTION @extschema@.definition_hash(fn pg_catalog.regprocedure)
    RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME', 'plrust_definition_hash'
    LANGUAGE C STRICT STABLE;

-- The dependency allow-list (plrust.allowed_dependencies) as the compiler reads it.
CREATE FUNCTION @extschema@.allowed_dependencies(
        OUT name pg_catalog.text,
        OUT version pg_catalog.text,
        OUT features pg_catalog.text[],
        OUT default_features pg_catalog.bool,
        OUT available pg_catalog.text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'plrust_list_allowed_dependencies'
    LANGUAGE C VOLATILE;

/*
 * plrust_store.c — the artifact table of the extension and the prebuilt
 * directory `plrust install` fills.
 *
 * The table holds native code that backends load, so only its owner (a
 * superuser: the bootstrap superuser for a trusted-extension install) may
 * write it; users never get privileges on it. The handler reads and writes
 * it on their behalf as that owner, with fixed, parameterised statements, a
 * pinned search_path and SECURITY_RESTRICTED_OPERATION, the way PostgreSQL
 * runs maintenance code for a table owner.
 */
#include "plrust.h"

#include <errno.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

typedef struct Store
{
	Oid			extension;
	Oid			owner;
	char	   *table;			/* quoted, schema-qualified */
} Store;

typedef struct OwnerScope
{
	Oid			saved_user;
	int			saved_sec;
	int			saved_nestlevel;
} OwnerScope;

static Oid
extension_namespace(Oid extension)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extension));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		nsp = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * Finds the artifact table of the plrust extension in this database; false
 * when the extension is not installed (the language was created by hand).
 */
static bool
locate_store(Store *store)
{
	Oid			nsp;
	Oid			relid;
	HeapTuple	tuple;
	Form_pg_class cls;
	char		relkind;

	store->extension = get_extension_oid("plrust", true);
	if (!OidIsValid(store->extension))
		return false;
	nsp = extension_namespace(store->extension);
	relid = OidIsValid(nsp) ? get_relname_relid("artifacts", nsp) : InvalidOid;
	if (!OidIsValid(relid))
		return false;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	cls = (Form_pg_class) GETSTRUCT(tuple);
	store->owner = cls->relowner;
	relkind = cls->relkind;
	ReleaseSysCache(tuple);

	store->table = quote_qualified_identifier(get_namespace_name(nsp), "artifacts");
	if (relkind != RELKIND_RELATION ||
		getExtensionOfObject(RelationRelationId, relid) != store->extension)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("relation %s is not the artifact table of extension plrust", store->table)));
	/* Whoever can write the table decides what code backends run. */
	if (!superuser_arg(store->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the PL/Rust artifact table must be owned by a superuser"),
				 errdetail("Table %s is owned by role \"%s\", which is not a superuser.",
						   store->table, GetUserNameFromId(store->owner, true)),
				 errhint("Make a superuser its owner with ALTER TABLE %s OWNER TO.", store->table)));
	return true;
}

static void
begin_as_owner(const Store *store, OwnerScope *scope)
{
	GetUserIdAndSecContext(&scope->saved_user, &scope->saved_sec);
	SetUserIdAndSecContext(store->owner,
						   scope->saved_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	scope->saved_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* On ERROR, transaction abort restores the user and the GUC nest level. */
static void
end_as_owner(OwnerScope *scope)
{
	SPI_finish();
	AtEOXact_GUC(false, scope->saved_nestlevel);
	SetUserIdAndSecContext(scope->saved_user, scope->saved_sec);
}

bool
plrust_store_writable(void)
{
	return !RecoveryInProgress() && !XactReadOnly && !IsInParallelMode();
}

/*
 * Reads with the latest snapshot where possible: the catalog (through the
 * syscache) may already show another session's committed CREATE OR REPLACE,
 * and its artifact must be visible with it even in a REPEATABLE READ
 * transaction that started earlier.
 */
static void
select_artifact(const Store *store, const char *columns, const char *hash, const char *arch)
{
	char	   *sql = psprintf("SELECT %s FROM %s WHERE definition_hash OPERATOR(pg_catalog.=) $1 "
							   "AND arch OPERATOR(pg_catalog.=) $2",
							   columns, store->table);
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(hash), CStringGetTextDatum(arch)};
	int			rc;

	if (IsInParallelMode())
		rc = SPI_execute_with_args(sql, 2, types, values, NULL, true, 1);
	else
	{
		SPIPlanPtr	plan = SPI_prepare(sql, 2, types);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		rc = SPI_execute_snapshot(plan, values, NULL, GetLatestSnapshot(), InvalidSnapshot,
								  false, false, 1);
	}
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the PL/Rust artifact table failed: %s", SPI_result_code_string(rc));
}

bool
plrust_store_fetch(const char *hash, const char *arch, PlrustArtifact *out)
{
	MemoryContext caller = CurrentMemoryContext;
	OwnerScope	scope;
	Store		store;
	bool		found = false;

	if (!locate_store(&store))
		return false;
	begin_as_owner(&store, &scope);
	select_artifact(&store, "library, sha256, abi_version, toolchain", hash, arch);
	if (SPI_processed == 1)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoryContext spi = MemoryContextSwitchTo(caller);
		bytea	   *library = DatumGetByteaPCopy(SPI_getbinval(row, desc, 1, &isnull));
		char	   *sha = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));

		memset(out, 0, sizeof(*out));
		strlcpy(out->arch, arch, sizeof(out->arch));
		strlcpy(out->sha256, sha, sizeof(out->sha256));
		out->abi_version = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
		out->toolchain = TextDatumGetCString(SPI_getbinval(row, desc, 4, &isnull));
		out->data = VARDATA(library);
		out->len = VARSIZE(library) - VARHDRSZ;
		MemoryContextSwitchTo(spi);
		found = true;
	}
	end_as_owner(&scope);
	return found;
}

bool
plrust_store_has(const char *hash, const char *arch)
{
	OwnerScope	scope;
	Store		store;
	bool		found = false;

	if (!locate_store(&store))
		return false;
	begin_as_owner(&store, &scope);
	select_artifact(&store, "abi_version", hash, arch);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		abi = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		found = DatumGetInt32(abi) == PLRUST_ABI_VERSION;
	}
	end_as_owner(&scope);
	return found;
}

void
plrust_store_save(const char *hash, const PlrustArtifact *artifact)
{
	OwnerScope	scope;
	Store		store;
	char	   *sql;
	bytea	   *library;
	Oid			types[6] = {TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, BYTEAOID};
	Datum		values[6];
	int			rc;

	if (!locate_store(&store))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"plrust\" is not installed in this database"),
				 errhint("Create the language with CREATE EXTENSION plrust.")));

	library = palloc_extended(VARHDRSZ + artifact->len, MCXT_ALLOC_HUGE);
	SET_VARSIZE(library, VARHDRSZ + artifact->len);
	memcpy(VARDATA(library), artifact->data, artifact->len);
	values[0] = CStringGetTextDatum(hash);
	values[1] = CStringGetTextDatum(artifact->arch);
	values[2] = Int32GetDatum(artifact->abi_version);
	values[3] = CStringGetTextDatum(artifact->toolchain);
	values[4] = CStringGetTextDatum(artifact->sha256);
	values[5] = PointerGetDatum(library);

	sql = psprintf("INSERT INTO %s (definition_hash, arch, abi_version, toolchain, sha256, library) "
				   "VALUES ($1, $2, $3, $4, $5, $6) "
				   "ON CONFLICT (definition_hash, arch) DO UPDATE SET "
				   "abi_version = excluded.abi_version, toolchain = excluded.toolchain, "
				   "sha256 = excluded.sha256, library = excluded.library, "
				   "created_at = pg_catalog.now()",
				   store.table);
	begin_as_owner(&store, &scope);
	rc = SPI_execute_with_args(sql, 6, types, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "storing a PL/Rust artifact failed: %s", SPI_result_code_string(rc));
	end_as_owner(&scope);
	pfree(library);
}

/*
 * Deletes every artifact whose definition hash belongs to no function of the
 * language any more: what CREATE OR REPLACE, ALTER ... STRICT and DROP leave
 * behind. Functions are found through the extension's language, whatever it
 * is called now.
 */
void
plrust_store_cleanup(void)
{
	OwnerScope	scope;
	Store		store;
	MemoryContext hashing;
	MemoryContext caller = CurrentMemoryContext;
	Datum	   *live;
	int			nlive = 0;
	uint64		i;
	ArrayType  *array;
	Oid			types[1];
	Datum		values[1];
	int			rc;

	if (!plrust_store_writable() || !locate_store(&store))
		return;

	begin_as_owner(&store, &scope);
	types[0] = OIDOID;
	values[0] = ObjectIdGetDatum(store.extension);
	rc = SPI_execute_with_args("SELECT p.oid FROM pg_catalog.pg_proc p "
							   "JOIN pg_catalog.pg_depend d "
							   "ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_language'::pg_catalog.regclass "
							   "AND d.objid OPERATOR(pg_catalog.=) p.prolang "
							   "AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass "
							   "AND d.refobjid OPERATOR(pg_catalog.=) $1 "
							   "AND d.deptype OPERATOR(pg_catalog.=) 'e'",
							   1, types, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "listing PL/Rust functions failed: %s", SPI_result_code_string(rc));

	live = MemoryContextAlloc(caller, sizeof(Datum) * Max(SPI_processed, 1));
	hashing = AllocSetContextCreate(CurrentMemoryContext, "PL/Rust cleanup", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			fn_oid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
		MemoryContext old;
		PlrustDef	def;

		if (!HeapTupleIsValid(tuple))
			continue;			/* dropped meanwhile */
		old = MemoryContextSwitchTo(hashing);
		if (plrust_parse_definition(tuple, &def) == NULL)
			live[nlive++] = PointerGetDatum(cstring_to_text_with_len(def.hash, PLRUST_SHA256_HEX_LEN));
		MemoryContextSwitchTo(old);
		ReleaseSysCache(tuple);
	}

	array = construct_array(live, nlive, TEXTOID, -1, false, TYPALIGN_INT);
	types[0] = TEXTARRAYOID;
	values[0] = PointerGetDatum(array);
	rc = SPI_execute_with_args(psprintf("DELETE FROM %s WHERE definition_hash "
										"OPERATOR(pg_catalog.<>) ALL ($1)", store.table),
							   1, types, values, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "removing stale PL/Rust artifacts failed: %s", SPI_result_code_string(rc));
	plrust_work_dir_forget(live, nlive);
	MemoryContextDelete(hashing);
	end_as_owner(&scope);
}

/*
 * `plrust install` puts the output of `plrust build` here: one directory per
 * definition hash with <arch>.so and <arch>.so.sha256. The directory belongs
 * to the installation (root-owned, like the handler itself).
 */
bool
plrust_prebuilt_read(const char *hash, const char *arch, PlrustArtifact *out)
{
	char		sharedir[MAXPGPATH];
	char	   *path;
	char	   *sum_path;
	char	   *data;
	char	   *sum;
	char		actual[PLRUST_SHA256_HEX_LEN + 1];
	Size		len;
	Size		sum_len;
	int			i;

	Assert(plrust_is_sha256_hex(hash));
	get_share_path(my_exec_path, sharedir);
	path = psprintf("%s/plrust/prebuilt/%s/%s.so", sharedir, hash, arch);
	sum_path = psprintf("%s.sha256", path);

	data = plrust_read_file(path, PLRUST_MAX_LIBRARY_SIZE, &len);
	if (data == NULL)
	{
		if (errno == ENOENT)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read prebuilt PL/Rust artifact \"%s\": %m", path)));
	}
	sum = plrust_read_file(sum_path, 4096, &sum_len);
	if (sum == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read checksum file \"%s\": %m", sum_path),
				 errhint("Reinstall the prebuilt functions with plrust install.")));
	/* "<hex>" or "<hex>  <file name>", as sha256sum writes it */
	for (i = 0; i < PLRUST_SHA256_HEX_LEN && sum[i] != '\0'; i++)
		if (sum[i] >= 'A' && sum[i] <= 'F')
			sum[i] += 'a' - 'A';
	if (sum_len > PLRUST_SHA256_HEX_LEN &&
		sum[PLRUST_SHA256_HEX_LEN] != ' ' && sum[PLRUST_SHA256_HEX_LEN] != '\n')
		sum[0] = '\0';
	else
		sum[Min(sum_len, PLRUST_SHA256_HEX_LEN)] = '\0';
	if (!plrust_is_sha256_hex(sum))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("checksum file \"%s\" does not hold a SHA-256 digest", sum_path),
				 errhint("Reinstall the prebuilt functions with plrust install.")));

	plrust_sha256_hex(data, len, actual);
	if (strcmp(actual, sum) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("prebuilt PL/Rust artifact \"%s\" does not match its checksum", path),
				 errdetail("The checksum file records SHA-256 %s, the artifact has %s.", sum, actual),
				 errhint("Reinstall the prebuilt functions with plrust install.")));

	memset(out, 0, sizeof(*out));
	strlcpy(out->arch, arch, sizeof(out->arch));
	strlcpy(out->sha256, actual, sizeof(out->sha256));

	/*
	 * The directory records no ABI version; `plrust install` installs it
	 * together with this handler, and the loader checks the version the
	 * library reports before calling anything else in it.
	 */
	out->abi_version = PLRUST_ABI_VERSION;
	out->toolchain = pstrdup("prebuilt");
	out->data = data;
	out->len = len;
	return true;
}

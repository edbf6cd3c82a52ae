/*
 * plrust_handler.c — the SQL-callable entry points of PL/Rust: call handler,
 * validator, the event trigger that drops stale artifacts, and
 * plrust.definition_hash().
 *
 * Each backend keeps the libraries it loaded in a hash table keyed by
 * function OID. An entry is valid while the function's pg_proc tuple has
 * the same xmin and ctid; any pg_proc invalidation (our own or another
 * session's CREATE OR REPLACE, ALTER, DROP) bumps a generation counter, and
 * the next call re-checks every entry against the catalog and unloads the
 * stale ones. Nothing is freed inside the invalidation callback itself: it
 * can run in the middle of a call.
 *
 * As in PostgreSQL's own procedural languages, messages do not name the
 * function: an error context callback around every call and every
 * validation adds it as the CONTEXT line of whatever is raised meanwhile,
 * by this handler, the loader, the compiler or PostgreSQL itself.
 */
#include "plrust.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "funcapi.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(plrust_call_handler);
PG_FUNCTION_INFO_V1(plrust_validator);
PG_FUNCTION_INFO_V1(plrust_on_sql_drop);
PG_FUNCTION_INFO_V1(plrust_definition_hash);

extern PGDLLEXPORT void _PG_init(void);

typedef struct CacheEntry
{
	Oid			fn_oid;			/* hash key */
	PlrustFunction *fn;
} CacheEntry;

/* What a call site (FmgrInfo) remembers between calls. */
typedef struct CallSite
{
	PlrustFunction *fn;
	uint64		generation;
} CallSite;

static HTAB *loaded = NULL;

/* Libraries forgotten while a call of theirs was active (through a query): unloaded once none is. */
static List *orphans = NIL;

/* Bumped by pg_proc invalidations and whenever a library is unloaded. */
static uint64 generation = 1;
/* Bumped by pg_proc invalidations only. */
static uint64 invalidations = 0;
static uint64 swept_invalidations = 0;
/* A fault marked a library broken (plrust_discard); the next lookup unloads it. */
static bool broken_pending = false;

static void
proc_invalidated(Datum arg, int cacheid, uint32 hashvalue)
{
	invalidations++;
	generation++;
}

void
_PG_init(void)
{
	HASHCTL		ctl;

	plrust_define_gucs();
	plrust_overflow_init();
	plrust_backstop_init();

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = plrust_top_context();
	loaded = hash_create("PL/Rust functions", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterSyscacheCallback(PROCOID, proc_invalidated, (Datum) 0);
}

static bool
tuple_matches(const PlrustFunction *fn, HeapTuple tuple)
{
	return fn->fn_xmin == HeapTupleHeaderGetRawXmin(tuple->t_data) &&
		ItemPointerEquals((ItemPointer) &fn->fn_tid, &tuple->t_self);
}

static void
forget(CacheEntry *entry)
{
	PlrustFunction *fn = entry->fn;

	hash_search(loaded, &entry->fn_oid, HASH_REMOVE, NULL);
	generation++;				/* call sites may still point at fn */
	if (plrust_fn_active(fn))
	{
		MemoryContext caller = MemoryContextSwitchTo(plrust_top_context());

		fn->orphaned = true;
		orphans = lappend(orphans, fn);
		MemoryContextSwitchTo(caller);
		return;
	}
	plrust_unload(fn);
}

/* At an outermost call: no library is active any more. */
static void
unload_orphans(void)
{
	List	   *doomed = orphans;
	ListCell   *lc;

	orphans = NIL;
	foreach(lc, doomed)
		plrust_unload(lfirst(lc));
	list_free(doomed);
}

void
plrust_discard(PlrustFunction *fn)
{
	fn->broken = true;
	broken_pending = true;
	generation++;				/* no call site may use fn again */
}

/*
 * Unloads every loaded library whose entry `unwanted` picks. The entries are
 * collected first: forgetting one while scanning would disturb the scan.
 */
static void
forget_where(bool (*unwanted) (CacheEntry *entry))
{
	HASH_SEQ_STATUS status;
	CacheEntry *entry;
	List	   *doomed = NIL;
	ListCell   *lc;

	hash_seq_init(&status, loaded);
	while ((entry = hash_seq_search(&status)) != NULL)
		if (unwanted(entry))
			doomed = lappend_oid(doomed, entry->fn_oid);
	foreach(lc, doomed)
	{
		Oid			fn_oid = lfirst_oid(lc);

		forget(hash_search(loaded, &fn_oid, HASH_FIND, NULL));
	}
	list_free(doomed);
}

static bool
is_broken(CacheEntry *entry)
{
	return entry->fn->broken;
}

/* The function was dropped or changed since its library was loaded. */
static bool
is_stale(CacheEntry *entry)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(entry->fn_oid));
	bool		stale;

	if (!HeapTupleIsValid(tuple))
		return true;
	stale = !tuple_matches(entry->fn, tuple);
	ReleaseSysCache(tuple);
	return stale;
}

static void
forget_broken(void)
{
	broken_pending = false;
	forget_where(is_broken);
}

/* Unloads every library whose function was dropped or changed. */
static void
sweep(void)
{
	swept_invalidations = invalidations;
	forget_where(is_stale);
}

/* ---- error context ---- */

/* arg: the function's name, NULL while it is not known */
static void
call_error_context(void *arg)
{
	if (arg != NULL)
		errcontext("PL/Rust function \"%s\"", (const char *) arg);
}

static void
validation_error_context(void *arg)
{
	if (arg != NULL)
		errcontext("compilation of PL/Rust function \"%s\"", (const char *) arg);
}

static void
hash_error_context(void *arg)
{
	if (arg != NULL)
		errcontext("definition hash of function \"%s\"", (const char *) arg);
}

static void
push_error_context(ErrorContextCallback *callback, void (*fn) (void *), const char *name)
{
	callback->callback = fn;
	callback->arg = unconstify(char *, name);
	callback->previous = error_context_stack;
	error_context_stack = callback;
}

/* ---- finding an artifact for a call ---- */

static void
no_artifact(const PlrustDef *def)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no compiled library for %s", PLRUST_HOST_ARCH),
			 errdetail("No stored or prebuilt artifact has definition hash %s, and plrust.compiler is not set.",
					   def->hash),
			 errhint("Set plrust.compiler (plrust install records it) and call the function again, "
					 "or install its prebuilt artifact with plrust install.")));
}

/*
 * For a call: the stored artifact, else a prebuilt one, else compile (a
 * function created with check_function_bodies = off, or changed by ALTER
 * FUNCTION ... STRICT). What is found is stored when this transaction may
 * write, so pg_dump and replicas get it too.
 */
static void
artifact_for_call(const PlrustDef *def, PlrustArtifact *out)
{
	bool		writable = plrust_store_writable();
	bool		stored;
	PlrustArtifact prebuilt;
	List	   *built;
	ListCell   *lc;
	bool		found = false;

	stored = plrust_store_fetch(def->hash, PLRUST_HOST_ARCH, out);
	if (stored && out->abi_version == PLRUST_ABI_VERSION)
		return;
	if (plrust_prebuilt_read(def->hash, PLRUST_HOST_ARCH, &prebuilt))
	{
		if (writable)
			plrust_store_save(def->hash, &prebuilt);
		*out = prebuilt;
		return;
	}
	if (!plrust_compiler_configured())
	{
		if (stored)
			return;				/* plrust_load explains the ABI version mismatch */
		no_artifact(def);
	}

	built = plrust_compile(def, writable ? plrust_target_arches() : list_make1(pstrdup(PLRUST_HOST_ARCH)));
	foreach(lc, built)
	{
		PlrustArtifact *a = lfirst(lc);

		if (writable)
			plrust_store_save(def->hash, a);
		if (strcmp(a->arch, PLRUST_HOST_ARCH) == 0)
		{
			*out = *a;
			found = true;
		}
	}
	if (!found)
		no_artifact(def);
	if (writable)
		plrust_store_cleanup();
}

static PlrustFunction *
load_function(HeapTuple tuple)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext fn_cxt = AllocSetContextCreate(plrust_top_context(), "PL/Rust function",
												 ALLOCSET_SMALL_SIZES);
	MemoryContext work = AllocSetContextCreate(caller, "PL/Rust load", ALLOCSET_DEFAULT_SIZES);
	PlrustFunction *fn;

	PG_TRY();
	{
		PlrustDef  *def;
		const PlrustProblem *problem;
		PlrustArtifact artifact;

		MemoryContextSwitchTo(fn_cxt);
		def = palloc(sizeof(PlrustDef));
		problem = plrust_parse_definition(tuple, def);
		MemoryContextSetIdentifier(fn_cxt, def->name);
		MemoryContextSwitchTo(work);
		if (problem != NULL)
			plrust_report_problem(problem);
		artifact_for_call(def, &artifact);
		fn = plrust_load(def, &artifact, fn_cxt);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		MemoryContextDelete(fn_cxt);
		MemoryContextDelete(work);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);

	fn->fn_xmin = HeapTupleHeaderGetRawXmin(tuple->t_data);
	fn->fn_tid = tuple->t_self;
	return fn;
}

/* Names the function in *errcb as soon as its catalog entry is read. */
static PlrustFunction *
lookup(Oid fn_oid, ErrorContextCallback *errcb)
{
	HeapTuple	tuple;
	CacheEntry *entry;
	PlrustFunction *fn;

	if (broken_pending)
		forget_broken();
	if (swept_invalidations != invalidations)
		sweep();
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	errcb->arg = pstrdup(NameStr(((Form_pg_proc) GETSTRUCT(tuple))->proname));
	entry = hash_search(loaded, &fn_oid, HASH_FIND, NULL);
	if (entry != NULL)
	{
		if (tuple_matches(entry->fn, tuple))
		{
			ReleaseSysCache(tuple);
			return entry->fn;
		}
		forget(entry);
	}

	PG_TRY();
	{
		fn = load_function(tuple);
	}
	PG_CATCH();
	{
		ReleaseSysCache(tuple);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ReleaseSysCache(tuple);

	entry = hash_search(loaded, &fn_oid, HASH_ENTER, NULL);
	entry->fn = fn;
	return fn;
}

static PlrustFunction *
function_for_call(FunctionCallInfo fcinfo, ErrorContextCallback *errcb)
{
	CallSite   *site = fcinfo->flinfo->fn_extra;
	uint64		invalidations_before;
	PlrustFunction *fn;

	if (likely(site != NULL && site->generation == generation))
		return site->fn;

	invalidations_before = invalidations;
	fn = lookup(fcinfo->flinfo->fn_oid, errcb);
	if (site == NULL)
	{
		site = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallSite));
		fcinfo->flinfo->fn_extra = site;
	}
	site->fn = fn;

	/*
	 * An invalidation that arrived during the lookup may concern this very
	 * function: leave the site stale (0 is never a generation) so the next
	 * call checks the catalog again.
	 */
	site->generation = invalidations == invalidations_before ? generation : 0;
	return fn;
}

/* ---- calling ---- */

pg_noreturn static void report_failure(PlrustFunction *fn, int32 status, const PlrustError *error);

/* The call's error context names the function; the messages describe what happened. */
static void
report_failure(PlrustFunction *fn, int32 status, const PlrustError *error)
{
	bool		limit_hit = fn->hctx.limit_hit;
	Size		refused = fn->hctx.refused_size;
	char	   *message = "";
	char	   *location = "";

	if (status != PLRUST_OOM)
	{
		message = plrust_message_text(error->message.ptr, error->message.len, 16 * 1024);
		location = plrust_message_text(error->location.ptr, error->location.len, 1024);
	}
	/* the strings are copied; the buffers go back before anything can throw */
	plrust_release_error(fn, status, error);
	plrust_finish_call(fn);

	switch (status)
	{
		case PLRUST_ERR:
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 message[0] != '\0' ? errmsg_internal("%s", message)
					 : errmsg("function returned an error without a message")));
			break;
		case PLRUST_PANIC:
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 message[0] != '\0' ? errmsg_internal("%s", message)
					 : errmsg("function panicked without a message"),
					 location[0] != '\0' ? errdetail("The function panicked at %s.", location)
					 : errdetail("The function panicked.")));
			break;
		case PLRUST_CANCELED:
			/* PostgreSQL raises its own "canceling statement due to ..." */
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("canceling PL/Rust function call"),
					 errdetail("The function stopped at a cancel or terminate request.")));
			break;
		case PLRUST_STACK_DEPTH:
			ereport(ERROR,
					(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
					 errmsg("stack depth limit exceeded"),
					 errhint("Increase the configuration parameter \"max_stack_depth\" (currently %dkB), "
							 "after ensuring the platform's stack depth limit is adequate.",
							 max_stack_depth),
					 location[0] != '\0' ? errdetail("The function reached the limit at %s.", location) : 0));
			break;
		case PLRUST_OOM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 limit_hit
					 ? errdetail("The function reached plrust.memory_limit (%d kB) on a request of %zu bytes. "
								 "The PL/Rust functions of this session hold %zu kB.",
								 plrust_memory_limit_kb, refused, plrust_memory_held() / 1024)
					 : refused > 0
					 ? errdetail("The function failed on a request of %zu bytes.", refused)
					 : errdetail("The function reported an allocation failure.")));
			break;
		case PLRUST_BAD_ARGS:
		case PLRUST_NOT_INITIALIZED:
		default:
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
					 errmsg("function library refused the call with status %d", status),
					 message[0] != '\0' ? errdetail_internal("%s", message) : 0));
	}
	pg_unreachable();
}

/* Whether a result of this type points to buffers the host has to give back. */
static inline bool
result_has_buffers(const PlrustType *t)
{
	return t->is_array || plrust_scalar_has_buffers(t->scalar);
}

/*
 * A set-returning call materialises its rows, as PL/pgSQL does: they
 * arrive by request during the call into a tuplestore that spills to disk
 * past work_mem. LIMIT therefore stops reading, not computing.
 */
static void
prepare_set(FunctionCallInfo fcinfo, PlrustFunction *fn, PlrustCallState *st)
{
	ReturnSetInfo *rsi = (ReturnSetInfo *) fcinfo->resultinfo;
	const PlrustDef *def = fn->def;
	MemoryContext caller;
	TupleDesc	desc;
	TypeFuncClass kind;

	if (rsi == NULL || !IsA(rsi, ReturnSetInfo) || (rsi->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	caller = MemoryContextSwitchTo(rsi->econtext->ecxt_per_query_memory);
	kind = get_call_result_type(fcinfo, NULL, &desc);
	if (kind == TYPEFUNC_COMPOSITE || kind == TYPEFUNC_COMPOSITE_DOMAIN)
		desc = CreateTupleDescCopy(desc);
	else
	{
		desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(desc, (AttrNumber) 1, "value",
						   def->ncols > 0 ? def->col_types[0].type_oid : def->ret_type.type_oid, -1, 0);
	}
	st->rows = tuplestore_begin_heap((rsi->allowedModes & SFRM_Materialize_Random) != 0, false, work_mem);
	st->rows_desc = desc;
	rsi->returnMode = SFRM_Materialize;
	rsi->setResult = st->rows;
	rsi->setDesc = desc;
	MemoryContextSwitchTo(caller);
}

/* A nested call of the same function ran on arguments of its own. */
static inline void
restore_outer_args(PlrustFunction *fn, PlrustValue *args, MemoryContext arg_cxt)
{
	if (unlikely(fn->arg_cxt != arg_cxt))
	{
		MemoryContextDelete(fn->arg_cxt);
		fn->args = args;
		fn->arg_cxt = arg_cxt;
	}
}

/*
 * A request kept an error the call must end with, or the function returned
 * a query's error: raise it as PostgreSQL raised it (SQLSTATE and all).
 */
static void
raise_request_error(PlrustFunction *fn, PlrustCallState *st, int32 status, PlrustValue *result,
					PlrustError *error, PlrustValue *outer_args, MemoryContext outer_arg_cxt)
{
	ErrorData  *edata = plrust_call_error(st, status, error);

	if (edata == NULL)
		return;
	if (status == PLRUST_OK && !result->is_null && result_has_buffers(&fn->def->ret_type))
		plrust_release_result(fn, result);
	plrust_release_error(fn, status, error);
	plrust_finish_call(fn);
	restore_outer_args(fn, outer_args, outer_arg_cxt);
	ReThrowError(edata);
}

Datum
plrust_call_handler(PG_FUNCTION_ARGS)
{
	PlrustFunction *fn;
	PlrustValue result;
	PlrustError error;
	int32		status;
	Datum		value;
	bool		isnull;
	char		frame;
	PlrustFunction *outer_fn;
	char	   *outer_frame;
	sig_atomic_t outer_in_host;
	PlrustValue *outer_args;
	MemoryContext outer_arg_cxt;
	PlrustCallState st;
	ErrorContextCallback errcb;

	push_error_context(&errcb, call_error_context, NULL);
	if (CALLED_AS_EVENT_TRIGGER(fcinfo))
	{
		errcb.arg = get_func_name(fcinfo->flinfo->fn_oid);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("PL/Rust functions cannot be event triggers")));
	}

	if (plrust_active_fn == NULL)
	{
		/* outermost: what an ERROR left behind of earlier calls is gone */
		plrust_current_call = NULL;
		if (unlikely(orphans != NIL))
			unload_orphans();
	}
	fn = function_for_call(fcinfo, &errcb);
	errcb.arg = fn->def->name;
	outer_args = fn->args;
	outer_arg_cxt = fn->arg_cxt;
	if (unlikely(plrust_fn_active(fn)))
	{
		/* the function queried itself: the outer call's arguments stay where they are */
		fn->arg_cxt = AllocSetContextCreate(CurrentMemoryContext, "PL/Rust nested call arguments",
											ALLOCSET_SMALL_SIZES);
		fn->args = MemoryContextAllocZero(fn->arg_cxt, sizeof(PlrustValue) * Max(fn->def->nargs, 1));
	}
	memset(&st, 0, sizeof(st));
	st.fn = fn;
	st.args = fn->args;
	st.arg_cxt = fn->arg_cxt;
	st.outer = plrust_current_call;
	st.call_cxt = CurrentMemoryContext;
	if (CALLED_AS_TRIGGER(fcinfo) != fn->def->is_trigger)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 fn->def->is_trigger ? errmsg("trigger functions can only be called as triggers")
				 : errmsg("function \"%s\" was not called by a trigger", fn->def->name)));
	if (fn->def->is_trigger)
		st.trigger = (TriggerData *) fcinfo->context;
	if (fn->def->retset)
		prepare_set(fcinfo, fn, &st);
	plrust_prepare_call(fn);
	plrust_args_from_datums(fn, fcinfo);
	memset(&result, 0, sizeof(result));
	memset(&error, 0, sizeof(error));

	/*
	 * For the stack-overflow handler and the backstop. Function code never
	 * calls back into PostgreSQL, so calls cannot nest today; restoring the
	 * outer call keeps both right if that ever changes.
	 */
	outer_fn = plrust_active_fn;
	outer_frame = plrust_active_frame;
	plrust_active_fn = fn;
	plrust_active_frame = &frame;
	outer_in_host = plrust_in_host;
	plrust_in_host = 0;
	plrust_current_call = &st;
	plrust_backstop_arm();
	status = fn->isolated ? plrust_isolated_call(fn, &result, &error)
		: fn->call(fn->args, (uint32_t) fn->def->nargs, &result, &error);
	plrust_current_call = st.outer;
	plrust_in_host = outer_in_host;
	plrust_active_frame = outer_frame;
	plrust_active_fn = outer_fn;

	if (unlikely(st.raise != NULL || st.last_error != NULL))
		raise_request_error(fn, &st, status, &result, &error, outer_args, outer_arg_cxt);
	if (unlikely(status != PLRUST_OK))
		report_failure(fn, status, &error);
	if (fn->def->is_trigger)
	{
		/* NULL skips the row (BEFORE and INSTEAD OF), as PostgreSQL's rules say */
		plrust_finish_call(fn);
		restore_outer_args(fn, outer_args, outer_arg_cxt);
		error_context_stack = errcb.previous;
		return PointerGetDatum(st.trigger_result);
	}
	if (fn->def->retset)
	{
		/* the rows are in the tuplestore; the result is NULL */
		plrust_finish_call(fn);
		restore_outer_args(fn, outer_args, outer_arg_cxt);
		error_context_stack = errcb.previous;
		fcinfo->isnull = true;
		return (Datum) 0;
	}
	if (result.is_null || !result_has_buffers(&fn->def->ret_type))
		value = plrust_result_to_datum(fn, fcinfo, &result, &isnull);
	else
	{
		/* the conversion may throw (invalid UTF-8, a NUL, a size limit): give the buffers back anyway */
		PG_TRY();
		{
			value = plrust_result_to_datum(fn, fcinfo, &result, &isnull);
		}
		PG_FINALLY();
		{
			plrust_release_result(fn, &result);
		}
		PG_END_TRY();
	}
	plrust_finish_call(fn);
	restore_outer_args(fn, outer_args, outer_arg_cxt);
	error_context_stack = errcb.previous;
	fcinfo->isnull = isnull;
	return value;
}

/* ---- validation ---- */

/*
 * Makes sure the table holds a library of def for every configured target:
 * an identical definition stored before, a prebuilt artifact, or a compile.
 */
static void
store_artifacts(const PlrustDef *def)
{
	List	   *missing = NIL;
	ListCell   *lc;

	foreach(lc, plrust_target_arches())
	{
		const char *arch = lfirst(lc);
		PlrustArtifact prebuilt;

		if (plrust_store_has(def->hash, arch))
			continue;
		if (plrust_prebuilt_read(def->hash, arch, &prebuilt))
			plrust_store_save(def->hash, &prebuilt);
		else
			missing = lappend(missing, (void *) arch);
	}
	if (missing == NIL)
		return;

	if (plrust_compiler_configured())
	{
		foreach(lc, plrust_compile(def, missing))
			plrust_store_save(def->hash, lfirst(lc));
		return;
	}
	if (plrust_list_has_string(missing, PLRUST_HOST_ARCH))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot compile the function because plrust.compiler is not set"),
				 errdetail("No prebuilt artifact has definition hash %s.", def->hash),
				 errhint("Install the toolchain with plrust install, or build the function with "
						 "plrust build and install the result with plrust install.")));
	foreach(lc, missing)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("no library for %s", (char *) lfirst(lc)),
				 errdetail("The setting plrust.targets includes %s, but plrust.compiler is not set.",
						   (char *) lfirst(lc)),
				 errhint("Servers of that architecture will not be able to run the function.")));
}

Datum
plrust_validator(PG_FUNCTION_ARGS)
{
	Oid			fn_oid = PG_GETARG_OID(0);
	PlrustDef  *def;
	ErrorContextCallback errcb;

	if (!CheckFunctionValidatorAccess(fcinfo->flinfo->fn_oid, fn_oid))
		PG_RETURN_VOID();

	push_error_context(&errcb, validation_error_context, get_func_name(fn_oid));
	/* The signature is checked even when bodies are not (pg_restore). */
	def = plrust_read_definition(fn_oid);
	if (check_function_bodies)
	{
		store_artifacts(def);
		plrust_store_cleanup();
	}
	error_context_stack = errcb.previous;
	PG_RETURN_VOID();
}

/* ---- housekeeping ---- */

Datum
plrust_on_sql_drop(PG_FUNCTION_ARGS)
{
	bool		dropped_functions;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("plrust_on_sql_drop must be called as an event trigger")));
	if (!plrust_store_writable())
		PG_RETURN_VOID();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() "
					"WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass "
					"LIMIT 1", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the dropped objects failed");
	dropped_functions = SPI_processed > 0;
	SPI_finish();

	if (dropped_functions)
		plrust_store_cleanup();
	PG_RETURN_VOID();
}

Datum
plrust_definition_hash(PG_FUNCTION_ARGS)
{
	Oid			fn_oid = PG_GETARG_OID(0);
	PlrustDef  *def;
	ErrorContextCallback errcb;

	push_error_context(&errcb, hash_error_context, get_func_name(fn_oid));
	def = plrust_read_definition(fn_oid);
	error_context_stack = errcb.previous;
	PG_RETURN_TEXT_P(cstring_to_text(def->hash));
}

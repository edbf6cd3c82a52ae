/*
 * plrust_alter.c: ALTER FUNCTION may not change the strictness of a PL/Rust
 * function.
 *
 * A function's library is compiled for its STRICT attribute: a STRICT
 * function's Rust parameters are plain values, a CALLED ON NULL INPUT one's
 * are Option<T>. Changing the attribute behind the library's back would hand
 * NULLs to code that cannot take them. The loader already refuses a library
 * whose signature disagrees with the catalog, but only at the next call; this
 * event trigger refuses the ALTER itself, before anything changes, and says
 * what to do instead. Every other ALTER FUNCTION goes through.
 */
#include "plrust.h"
#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(plrust_on_ddl_start);

/* The C symbol (prosrc) of a pg_proc tuple, or NULL. */
static char *
proc_symbol(HeapTuple proctup)
{
	bool		isnull;
	Datum		src = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_prosrc, &isnull);

	return isnull ? NULL : TextDatumGetCString(src);
}

/* Whether `lang` is the language this library is the call handler of. */
static bool
is_plrust_language(Oid lang)
{
	HeapTuple	tup;
	Oid			handler;
	char	   *name;
	bool		ours;

	tup = SearchSysCache1(LANGOID, ObjectIdGetDatum(lang));
	if (!HeapTupleIsValid(tup))
		return false;
	handler = ((Form_pg_language) GETSTRUCT(tup))->lanplcallfoid;
	ReleaseSysCache(tup);
	if (!OidIsValid(handler))
		return false;
	/* By the handler's C symbol, so a renamed language is still recognised. */
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(handler));
	if (!HeapTupleIsValid(tup))
		return false;
	name = proc_symbol(tup);
	ours = name != NULL && strcmp(name, "plrust_call_handler") == 0 &&
		((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId;
	ReleaseSysCache(tup);
	return ours;
}

/* The value an ALTER FUNCTION action list gives STRICT, or -1 when it gives none. */
static int
requested_strictness(List *actions)
{
	ListCell   *lc;
	int			strict = -1;

	foreach(lc, actions)
	{
		DefElem    *d = lfirst_node(DefElem, lc);

		if (strcmp(d->defname, "strict") == 0)
			strict = defGetBoolean(d) ? 1 : 0;
	}
	return strict;
}

Datum
plrust_on_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterFunctionStmt *stmt;
	int			strict;
	Oid			fn_oid;
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		was_strict;
	Oid			lang;
	char	   *name;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("plrust_on_ddl_start must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (trigdata->parsetree == NULL || !IsA(trigdata->parsetree, AlterFunctionStmt))
		PG_RETURN_VOID();
	stmt = (AlterFunctionStmt *) trigdata->parsetree;
	strict = requested_strictness(stmt->actions);
	if (strict < 0)
		PG_RETURN_VOID();

	/* A function that does not exist is left to ALTER FUNCTION to report. */
	fn_oid = LookupFuncWithArgs(stmt->objtype, stmt->func, true);
	if (!OidIsValid(fn_oid))
		PG_RETURN_VOID();
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tup))
		PG_RETURN_VOID();
	proc = (Form_pg_proc) GETSTRUCT(tup);
	was_strict = proc->proisstrict;
	lang = proc->prolang;
	name = quote_qualified_identifier(get_namespace_name(proc->pronamespace),
									  NameStr(proc->proname));
	ReleaseSysCache(tup);

	if ((strict == 1) == was_strict || !is_plrust_language(lang))
		PG_RETURN_VOID();
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot change the strictness of PL/Rust function %s",
					name),
			 errdetail("The function was compiled %s; its Rust parameters depend on it.",
					   was_strict ? "as STRICT" : "for CALLED ON NULL INPUT"),
			 errhint("Use CREATE OR REPLACE FUNCTION with %s to recompile it.",
					 was_strict ? "CALLED ON NULL INPUT and Option<T> parameters" : "STRICT")));
	PG_RETURN_VOID();
}

/*
 * plrust_alter.c — ALTER FUNCTION cannot change STRICT on a PL/Rust
 * function, as upstream PL/Rust refuses it: the compiled library binds each
 * argument as T or Option<T> according to STRICT, so the change needs a new
 * body (CREATE OR REPLACE). Other ALTERs (RENAME, OWNER, volatility, SET,
 * COST, ...) keep working.
 *
 * An event trigger on ddl_command_start sees the statement before it runs,
 * in every session, whether or not the handler is loaded yet there.
 */
#include "plrust.h"

#include "commands/event_trigger.h"
#include "commands/proclang.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(plrust_on_alter_function);

static Oid
language_of(Oid fn_oid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	Oid			lang;

	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	lang = ((Form_pg_proc) GETSTRUCT(tuple))->prolang;
	ReleaseSysCache(tuple);
	return lang;
}

Datum
plrust_on_alter_function(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigger;
	AlterFunctionStmt *stmt;
	ListCell   *lc;
	bool		changes_strict = false;
	Oid			fn_oid;
	Oid			plrust_lang;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("plrust_on_alter_function must be called as an event trigger")));
	trigger = (EventTriggerData *) fcinfo->context;
	if (trigger->parsetree == NULL || !IsA(trigger->parsetree, AlterFunctionStmt))
		PG_RETURN_VOID();
	stmt = (AlterFunctionStmt *) trigger->parsetree;
	foreach(lc, stmt->actions)
		if (strcmp(lfirst_node(DefElem, lc)->defname, "strict") == 0)
			changes_strict = true;
	if (!changes_strict)
		PG_RETURN_VOID();

	/* ALTER FUNCTION itself reports a missing function */
	fn_oid = LookupFuncWithArgs(stmt->objtype, stmt->func, true);
	plrust_lang = get_language_oid("plrust", true);
	if (!OidIsValid(fn_oid) || !OidIsValid(plrust_lang) || language_of(fn_oid) != plrust_lang)
		PG_RETURN_VOID();
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot change whether PL/Rust function \"%s\" is STRICT", get_func_name(fn_oid)),
			 errdetail("Its compiled library takes each argument as T or Option<T> according to STRICT."),
			 errhint("Use CREATE OR REPLACE FUNCTION with the new setting and a body written for it.")));
	PG_RETURN_VOID();
}

/*
 * plrust_definition.c — a PL/Rust function as the catalog describes it, its
 * definition hash (docs/COMPILE.md, computed identically by `plrust build`)
 * and the JSON documents derived from it.
 */
#include "plrust.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static const char *const scalar_names[] = {
	[PLRUST_BOOL] = "bool",
	[PLRUST_INT2] = "int2",
	[PLRUST_INT4] = "int4",
	[PLRUST_INT8] = "int8",
	[PLRUST_FLOAT4] = "float4",
	[PLRUST_FLOAT8] = "float8",
	[PLRUST_TEXT] = "text",
	[PLRUST_VARCHAR] = "varchar",
	[PLRUST_BYTEA] = "bytea",
	[PLRUST_VOID] = "void",
	[PLRUST_CHAR] = "\"char\"",
	[PLRUST_OID] = "oid",
	[PLRUST_DATE] = "date",
	[PLRUST_TIME] = "time",
	[PLRUST_TIMETZ] = "timetz",
	[PLRUST_TIMESTAMP] = "timestamp",
	[PLRUST_TIMESTAMPTZ] = "timestamptz",
	[PLRUST_INTERVAL] = "interval",
	[PLRUST_UUID] = "uuid",
	[PLRUST_POINT] = "point",
	[PLRUST_BOX] = "box",
	[PLRUST_TID] = "tid",
	[PLRUST_CSTRING] = "cstring",
	[PLRUST_NUMERIC] = "numeric",
	[PLRUST_JSON] = "json",
	[PLRUST_JSONB] = "jsonb",
	[PLRUST_INET] = "inet",
	[PLRUST_ENUM] = "text",
	[PLRUST_INT4RANGE] = "int4range",
	[PLRUST_INT8RANGE] = "int8range",
	[PLRUST_NUMRANGE] = "numrange",
	[PLRUST_DATERANGE] = "daterange",
	[PLRUST_TSRANGE] = "tsrange",
	[PLRUST_TSTZRANGE] = "tstzrange",
	[PLRUST_ANYELEMENT] = "anyelement",
	[PLRUST_ANYARRAY] = "anyarray",
};

static const char *const array_names[] = {
	[PLRUST_BOOL] = "bool[]",
	[PLRUST_INT2] = "int2[]",
	[PLRUST_INT4] = "int4[]",
	[PLRUST_INT8] = "int8[]",
	[PLRUST_FLOAT4] = "float4[]",
	[PLRUST_FLOAT8] = "float8[]",
	[PLRUST_TEXT] = "text[]",
	[PLRUST_VARCHAR] = "varchar[]",
	[PLRUST_BYTEA] = "bytea[]",
	[PLRUST_CHAR] = "\"char\"[]",
	[PLRUST_OID] = "oid[]",
	[PLRUST_DATE] = "date[]",
	[PLRUST_TIME] = "time[]",
	[PLRUST_TIMETZ] = "timetz[]",
	[PLRUST_TIMESTAMP] = "timestamp[]",
	[PLRUST_TIMESTAMPTZ] = "timestamptz[]",
	[PLRUST_INTERVAL] = "interval[]",
	[PLRUST_UUID] = "uuid[]",
	[PLRUST_POINT] = "point[]",
	[PLRUST_BOX] = "box[]",
	[PLRUST_TID] = "tid[]",
	[PLRUST_CSTRING] = "cstring[]",
	[PLRUST_NUMERIC] = "numeric[]",
	[PLRUST_JSON] = "json[]",
	[PLRUST_JSONB] = "jsonb[]",
	[PLRUST_INET] = "inet[]",
	[PLRUST_ENUM] = "text[]",
	[PLRUST_INT4RANGE] = "int4range[]",
	[PLRUST_INT8RANGE] = "int8range[]",
	[PLRUST_NUMRANGE] = "numrange[]",
	[PLRUST_DATERANGE] = "daterange[]",
	[PLRUST_TSRANGE] = "tsrange[]",
	[PLRUST_TSTZRANGE] = "tstzrange[]",
};

static bool
scalar_of(Oid type_oid, PlrustScalar *out)
{
	switch (type_oid)
	{
		case BOOLOID:
			*out = PLRUST_BOOL;
			return true;
		case INT2OID:
			*out = PLRUST_INT2;
			return true;
		case INT4OID:
			*out = PLRUST_INT4;
			return true;
		case INT8OID:
			*out = PLRUST_INT8;
			return true;
		case FLOAT4OID:
			*out = PLRUST_FLOAT4;
			return true;
		case FLOAT8OID:
			*out = PLRUST_FLOAT8;
			return true;
		case TEXTOID:
			*out = PLRUST_TEXT;
			return true;
		case VARCHAROID:
			*out = PLRUST_VARCHAR;
			return true;
		case BYTEAOID:
			*out = PLRUST_BYTEA;
			return true;
		case VOIDOID:
			*out = PLRUST_VOID;
			return true;
		default:
			if (type_is_enum(type_oid))
			{
				*out = PLRUST_ENUM;
				return true;
			}
			return plrust_extra_scalar_of(type_oid, out);
	}
}

static const PlrustProblem *
problem(int sqlerrcode, const char *message, const char *detail)
{
	PlrustProblem *p = palloc(sizeof(PlrustProblem));

	p->sqlerrcode = sqlerrcode;
	p->message = message;
	p->detail = detail;
	return p;
}

static const PlrustProblem *
resolve_type(Oid type_oid, bool is_result, PlrustType *t)
{
	Oid			elem;

	memset(t, 0, sizeof(*t));
	t->type_oid = type_oid;
	/* a domain is its base type; PostgreSQL checks its constraints on results */
	t->is_domain = get_typtype(type_oid) == TYPTYPE_DOMAIN;
	if (scalar_of(getBaseType(type_oid), &t->scalar))
	{
		if (t->scalar == PLRUST_VOID && !is_result)
			return problem(ERRCODE_FEATURE_NOT_SUPPORTED,
						   "PL/Rust functions cannot take arguments of type void", NULL);
		return NULL;
	}
	elem = get_element_type(type_oid);
	/*
	 * PostgreSQL hands a record argument over with its (maybe transient) row
	 * type; a record result would need the caller's column definition list.
	 */
	if (is_result && (type_oid == RECORDOID || elem == RECORDOID))
		return problem(ERRCODE_FEATURE_NOT_SUPPORTED,
					   psprintf("PL/Rust functions cannot return type %s", format_type_be(type_oid)),
					   "Return a named composite type (CREATE TYPE ... AS (...)), or declare RETURNS TABLE(...).");
	if (type_oid == RECORDOID || get_typtype(getBaseType(type_oid)) == TYPTYPE_COMPOSITE)
	{
		t->scalar = PLRUST_COMPOSITE;
		return NULL;
	}
	if (OidIsValid(elem) && (elem == RECORDOID || get_typtype(getBaseType(elem)) == TYPTYPE_COMPOSITE))
	{
		t->scalar = PLRUST_COMPOSITE;
		t->is_array = true;
		t->elem_oid = elem;
		get_typlenbyvalalign(elem, &t->elem_len, &t->elem_byval, &t->elem_align);
		return NULL;
	}
	if (OidIsValid(elem) && scalar_of(getBaseType(elem), &t->scalar) && t->scalar != PLRUST_VOID &&
		!plrust_scalar_is_polymorphic(t->scalar))
	{
		t->is_array = true;
		t->elem_oid = elem;
		get_typlenbyvalalign(elem, &t->elem_len, &t->elem_byval, &t->elem_align);
		return NULL;
	}
	return problem(ERRCODE_FEATURE_NOT_SUPPORTED,
				   psprintf("PL/Rust does not support type %s", format_type_be(type_oid)),
				   "The supported types are bool, int2, int4, int8, float4, float8, text, varchar, "
				   "bytea, \"char\", oid, date, time, timetz, timestamp, timestamptz, interval, uuid, "
				   "point, box, tid, cstring, numeric, json, jsonb, inet, int4range, int8range, numrange, daterange, "
				   "tsrange, tstzrange, enums (as text), named composite types and domains over them, "
				   "record (as an argument), one-dimensional arrays of these, anyelement and anyarray, "
				   "and void as the result type.");
}

/*
 * Whether values of type_oid convert to PlrustValues (query arguments and
 * results). A column of a polymorphic type (pg_stats has anyarray columns)
 * has no one type to convert to: it travels as its text form.
 */
bool
plrust_type_of(Oid type_oid, PlrustType *t)
{
	return resolve_type(type_oid, false, t) == NULL && !plrust_scalar_is_polymorphic(t->scalar);
}

static const PlrustProblem *
polymorphic_set(void)
{
	return problem(ERRCODE_FEATURE_NOT_SUPPORTED,
				   "PL/Rust set-returning functions cannot return anyelement or anyarray",
				   "A polymorphic result is supported for functions that return one value.");
}

const char *
plrust_type_name(const PlrustType *type)
{
	/* the prefix keeps a composite's name apart from every scalar type's */
	if (type->scalar == PLRUST_COMPOSITE)
		return psprintf("composite:%s%s", format_type_be_qualified(type->is_array ? type->elem_oid : type->type_oid),
						type->is_array ? "[]" : "");
	return type->is_array ? array_names[type->scalar] : scalar_names[type->scalar];
}

/*
 * Argument names become Rust bindings. Restricting them to identifier
 * characters also keeps the line-oriented hash text unambiguous.
 */
static bool
identifier_like(const char *name)
{
	const unsigned char *p = (const unsigned char *) name;

	if (*p == '\0' || (*p >= '0' && *p <= '9'))
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p >= 0x80))
			return false;
	return true;
}

/* int4, setof int4 or table(count int4, word text): as src/functions/set-returns.ts spells it */
static const char *
returns_name(const PlrustDef *def)
{
	StringInfoData buf;
	int			i;

	if (def->is_trigger)
		return "trigger";
	if (!def->retset)
		return plrust_type_name(&def->ret_type);
	initStringInfo(&buf);
	if (def->ncols == 0)
	{
		appendStringInfo(&buf, "setof %s", plrust_type_name(&def->ret_type));
		return buf.data;
	}
	appendStringInfoString(&buf, "table(");
	for (i = 0; i < def->ncols; i++)
		appendStringInfo(&buf, "%s%s %s", i > 0 ? ", " : "", def->col_names[i], plrust_type_name(&def->col_types[i]));
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static void
compute_hash(PlrustDef *def)
{
	StringInfoData text;
	int			i;

	initStringInfo(&text);
	appendStringInfoString(&text, "plrust-definition-v1\n");
	appendStringInfo(&text, "strict=%s\n", def->strict ? "true" : "false");
	appendStringInfo(&text, "returns=%s\n", returns_name(def));
	for (i = 0; i < def->nargs; i++)
		appendStringInfo(&text, "arg=%s:%s\n", def->arg_names[i], plrust_type_name(&def->arg_types[i]));
	appendStringInfoString(&text, "body=\n");
	appendStringInfoString(&text, def->body);
	plrust_sha256_hex(text.data, text.len, def->hash);
	pfree(text.data);
}

const PlrustProblem *
plrust_parse_definition(HeapTuple proc_tuple, PlrustDef *def)
{
	Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(proc_tuple);
	Oid		   *types;
	char	  **names;
	char	   *modes;
	int			nargs;
	int			i;
	Datum		src;
	bool		isnull;
	char	   *body;
	const PlrustProblem *why;

	memset(def, 0, sizeof(*def));
	def->fn_oid = proc->oid;
	def->name = pstrdup(NameStr(proc->proname));
	def->strict = proc->proisstrict;
	def->volatility = proc->provolatile;

	if (proc->prokind != PROKIND_FUNCTION)
		return problem(ERRCODE_FEATURE_NOT_SUPPORTED, "PL/Rust supports only plain functions",
					   "Procedures, aggregates and window functions cannot be written in PL/Rust.");
	def->retset = proc->proretset;

	nargs = get_func_arg_info(proc_tuple, &types, &names, &modes);
	if (modes != NULL)
		for (i = 0; i < nargs; i++)
			if (modes[i] != PROARGMODE_IN && modes[i] != PROARGMODE_TABLE)
				return problem(ERRCODE_FEATURE_NOT_SUPPORTED, "PL/Rust functions support only IN arguments",
							   "OUT, INOUT and VARIADIC arguments are not supported; RETURNS TABLE is.");

	def->arg_names = palloc0(sizeof(char *) * Max(nargs, 1));
	def->arg_types = palloc0(sizeof(PlrustType) * Max(nargs, 1));
	def->col_names = palloc0(sizeof(char *) * Max(nargs, 1));
	def->col_types = palloc0(sizeof(PlrustType) * Max(nargs, 1));
	for (i = 0; i < nargs; i++)
	{
		const char *name = names != NULL ? names[i] : NULL;

		if (modes != NULL && modes[i] == PROARGMODE_TABLE)
		{
			int			c = def->ncols++;

			def->col_names[c] = plrust_to_utf8(name, strlen(name));
			if ((why = resolve_type(types[i], false, &def->col_types[c])) != NULL)
				return why;
			if (plrust_scalar_is_polymorphic(def->col_types[c].scalar))
				return polymorphic_set();
			continue;
		}

		if (name == NULL || name[0] == '\0')
			return problem(ERRCODE_INVALID_FUNCTION_DEFINITION,
						   psprintf("argument %d has no name", i + 1),
						   "The body of a PL/Rust function refers to its arguments by name.");
		if (!identifier_like(name))
			return problem(ERRCODE_INVALID_NAME,
						   psprintf("argument name \"%s\" is not a valid Rust identifier", name),
						   "Argument names must consist of letters, digits and underscores, "
						   "and must not start with a digit.");
		def->arg_names[def->nargs] = plrust_to_utf8(name, strlen(name));
		if ((why = resolve_type(types[i], false, &def->arg_types[def->nargs])) != NULL)
			return why;
		def->nargs++;
	}
	if (def->ncols > 0)
		def->ret_type.scalar = PLRUST_VOID;
	else if (proc->prorettype == TRIGGEROID)
	{
		def->is_trigger = true;
		def->ret_type.scalar = PLRUST_VOID;
		def->ret_type.type_oid = TRIGGEROID;
	}
	else if ((why = resolve_type(proc->prorettype, true, &def->ret_type)) != NULL)
		return why;
	else if (def->retset && def->ret_type.scalar == PLRUST_VOID)
		return problem(ERRCODE_FEATURE_NOT_SUPPORTED, "PL/Rust functions cannot return SETOF void", NULL);
	else if (def->retset && plrust_scalar_is_polymorphic(def->ret_type.scalar))
		return polymorphic_set();

	src = SysCacheGetAttr(PROCOID, proc_tuple, Anum_pg_proc_prosrc, &isnull);
	if (isnull)
		return problem(ERRCODE_INVALID_FUNCTION_DEFINITION, "function has no body", NULL);
	body = TextDatumGetCString(src);
	def->body = plrust_to_utf8(body, strlen(body));

	compute_hash(def);
	return NULL;
}

void
plrust_report_problem(const PlrustProblem *why)
{
	ereport(ERROR,
			(errcode(why->sqlerrcode),
			 errmsg("%s", why->message),
			 why->detail != NULL ? errdetail("%s", why->detail) : 0));
	pg_unreachable();
}

PlrustDef *
plrust_read_definition(Oid fn_oid)
{
	HeapTuple	tuple;
	PlrustDef  *def = palloc(sizeof(PlrustDef));
	const PlrustProblem *why;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", fn_oid)));
	why = plrust_parse_definition(tuple, def);
	ReleaseSysCache(tuple);
	if (why != NULL)
		plrust_report_problem(why);
	return def;
}

static void
append_args_json(StringInfo buf, const PlrustDef *def)
{
	int			i;

	appendStringInfoString(buf, "\"args\":[");
	for (i = 0; i < def->nargs; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, "{\"name\":");
		escape_json(buf, def->arg_names[i]);
		appendStringInfoString(buf, ",\"type\":");
		escape_json(buf, plrust_type_name(&def->arg_types[i]));
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoString(buf, "],\"returns\":");
	escape_json(buf, returns_name(def));
	appendStringInfo(buf, ",\"strict\":%s", def->strict ? "true" : "false");
}

char *
plrust_signature_json(const PlrustDef *def)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	append_args_json(&buf, def);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

char *
plrust_request_json(const PlrustDef *def, List *arches)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"protocol\":1,\"name\":");
	escape_json(&buf, plrust_to_utf8(def->name, strlen(def->name)));
	appendStringInfoChar(&buf, ',');
	append_args_json(&buf, def);
	appendStringInfoString(&buf, ",\"body\":");
	escape_json(&buf, def->body);
	appendStringInfoString(&buf, ",\"targets\":[");
	foreach(lc, arches)
	{
		if (!first)
			appendStringInfoChar(&buf, ',');
		escape_json(&buf, lfirst(lc));
		first = false;
	}
	appendStringInfoString(&buf, "]}");
	return buf.data;
}

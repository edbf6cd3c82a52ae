/*
 * plrust_request.c — the host side of the request channel (docs/ABI.md,
 * "Host requests"): logging and queries asked for by function code.
 *
 * A request arrives with Rust frames on the stack, so nothing may longjmp
 * out of it: each operation runs in PG_TRY, queries also in an internal
 * subtransaction (as PL/Python and PL/Perl run theirs) so that a failed
 * query leaves the transaction usable, and an ERROR becomes an error reply
 * carrying its SQLSTATE, message, detail and hint. Errors the function must
 * not survive (a cancel, a statement timeout, error!) are kept in the call
 * state and raised by the call handler once plrust_call has returned; the
 * reply tells the runtime to unwind.
 */
#include "plrust.h"

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/rel.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "utils/lsyscache.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "funcapi.h"
#include "parser/parse_type.h"

#define OP_LOG 1
#define OP_SPI 2
#define OP_ROWS 3
#define OP_TRIGGER 4
#define OP_TRIGGER_RETURN 5
#define OP_FN_CALL 6
#define OP_TYPE 7
#define OP_ROW 8
#define OP_ROW_TEXT 9
#define OP_TIMEZONE 16
#define OP_SERVER_VERSION 17

#define SHAPE_NULL 0
#define SHAPE_PLAIN 1
#define SHAPE_BYTES 2
#define SHAPE_ARRAY 3

#define REPLY_OK 0
#define REPLY_ERROR 1
#define REPLY_NO_MEMORY 2

/*
 * A type name to its OID, InvalidOid when no such type exists (a malformed
 * name is still an ERROR). PostgreSQL 16 turned the missing_ok flag into a
 * soft-error context.
 */
static void
parse_type_missing_ok(const char *name, Oid *type_oid, int32 *typmod)
{
#if PG_VERSION_NUM >= 160000
	ErrorSaveContext missing = {T_ErrorSaveContext};

	if (!parseTypeString(name, type_oid, typmod, (Node *) &missing))
		*type_oid = InvalidOid;
#else
	parseTypeString(name, type_oid, typmod, true);
#endif
}

/* Longer log messages are cut: a message is for people, and the log is shared. */
#define MAX_LOG_MESSAGE ((Size) 64 * 1024)

PlrustCallState *plrust_current_call = NULL;

typedef struct Reader
{
	const uint8_t *p;
	Size		len;
	Size		at;
} Reader;

pg_noreturn static void
malformed(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed request from a PL/Rust function library")));
}

static const uint8_t *
take(Reader *r, Size n)
{
	const uint8_t *s;

	if (n > r->len - r->at)
		malformed();
	s = r->p + r->at;
	r->at += n;
	return s;
}

static uint8
get_u8(Reader *r)
{
	return *take(r, 1);
}

static uint32
get_u32(Reader *r)
{
	uint32		v;

	memcpy(&v, take(r, 4), 4);	/* both targets are little-endian */
	return v;
}

static uint64
get_u64(Reader *r)
{
	uint64		v;

	memcpy(&v, take(r, 8), 8);
	return v;
}

static const uint8_t *
get_bytes(Reader *r, Size *len)
{
	uint64		n = get_u64(r);

	if (n > r->len)
		malformed();
	*len = (Size) n;
	return take(r, (Size) n);
}

static void
put_u8(StringInfo out, uint8 v)
{
	appendStringInfoCharMacro(out, (char) v);
}

static void
put_u32(StringInfo out, uint32 v)
{
	appendBinaryStringInfo(out, (const char *) &v, 4);
}

static void
put_u64(StringInfo out, uint64 v)
{
	appendBinaryStringInfo(out, (const char *) &v, 8);
}

static void
put_bytes(StringInfo out, const void *p, Size len)
{
	put_u64(out, len);
	if (len > 0)
		appendBinaryStringInfo(out, p, (int) len);
}

static void
put_text(StringInfo out, const char *s)
{
	if (s == NULL)
		put_u64(out, 0);
	else
	{
		char	   *utf8 = plrust_to_utf8(s, strlen(s));

		put_bytes(out, utf8, strlen(utf8));
	}
}

/*
 * The types whose values travel converted. An enum travels as its text
 * form, so that its input function checks the label against the type.
 */
static bool
request_type_of(Oid type_oid, PlrustType *t)
{
	return plrust_type_of(type_oid, t) && t->scalar != PLRUST_ENUM && t->scalar != PLRUST_COMPOSITE;
}

/* A PlrustValue tree the host built, flattened by its shape tags. */
static void
put_value(StringInfo out, const PlrustValue *v)
{
	if (v->is_null)
		put_u8(out, SHAPE_NULL);
	else if (v->shape == PLRUST_SHAPE_ARRAY)
	{
		const PlrustValue *elems = v->v.array.ptr;
		Size		i;

		put_u8(out, SHAPE_ARRAY);
		put_u64(out, v->v.array.len);
		for (i = 0; i < v->v.array.len; i++)
			put_value(out, &elems[i]);
	}
	else if (v->shape == PLRUST_SHAPE_BYTES)
	{
		put_u8(out, SHAPE_BYTES);
		put_bytes(out, v->v.bytes.ptr, v->v.bytes.len);
	}
	else
	{
		put_u8(out, SHAPE_PLAIN);
		appendBinaryStringInfo(out, (const char *) &v->v, 8);
	}
}

static void get_scalar(Reader *r, PlrustValue *v, PlrustScalar s);

/*
 * A range: flags, then its two bounds (NULL when infinite), each of the
 * subtype's shape.
 */
static void
get_range(Reader *r, PlrustValue *v, PlrustScalar s)
{
	PlrustValue *parts;
	int			i;

	if (get_u64(r) != 3)
		malformed();
	parts = palloc0(sizeof(PlrustValue) * 3);
	if (get_u8(r) != SHAPE_PLAIN)
		malformed();
	memcpy(&parts[0].v, take(r, 8), 8);
	for (i = 1; i < 3; i++)
		get_scalar(r, &parts[i], plrust_range_subtype(s));
	v->shape = PLRUST_SHAPE_ARRAY;
	v->v.array.ptr = parts;
	v->v.array.len = 3;
}

/*
 * A non-array value of scalar type s, NULL or of the shape the type
 * demands: the message comes from function code, and a pointer-shaped
 * member must never be filled from its bytes.
 */
static void
get_scalar(Reader *r, PlrustValue *v, PlrustScalar s)
{
	uint8		shape = get_u8(r);

	memset(v, 0, sizeof(*v));
	if (shape == SHAPE_NULL)
		v->is_null = 1;
	else if (plrust_scalar_is_range(s))
	{
		if (shape != SHAPE_ARRAY)
			malformed();
		get_range(r, v, s);
	}
	else if (plrust_scalar_has_buffers(s))
	{
		if (shape != SHAPE_BYTES)
			malformed();
		v->shape = PLRUST_SHAPE_BYTES;
		v->v.bytes.ptr = get_bytes(r, &v->v.bytes.len);
	}
	else
	{
		if (shape != SHAPE_PLAIN)
			malformed();
		memcpy(&v->v, take(r, 8), 8);
		if (s == PLRUST_BOOL && v->v.b > 1)
			malformed();
	}
}

/* Reads a value of type t into *v; its slices point into the message. */
static void
get_value(Reader *r, PlrustValue *v, const PlrustType *t)
{
	uint64		n;
	PlrustValue *elems;
	Size		i;

	if (!t->is_array)
	{
		get_scalar(r, v, t->scalar);
		return;
	}
	memset(v, 0, sizeof(*v));
	switch (get_u8(r))
	{
		case SHAPE_NULL:
			v->is_null = 1;
			return;
		case SHAPE_ARRAY:
			break;
		default:
			malformed();
	}
	n = get_u64(r);
	if (n > MaxArraySize || n > r->len)
		malformed();
	elems = palloc0(sizeof(PlrustValue) * Max(n, 1));
	for (i = 0; i < n; i++)
		get_scalar(r, &elems[i], t->scalar);
	v->shape = PLRUST_SHAPE_ARRAY;
	v->v.array.ptr = elems;
	v->v.array.len = n;
}

/* Skips a value of a type PL/Rust does not convert; returns its text form if it is one. */
static char *
get_text_form(Reader *r)
{
	Size		len;
	const uint8_t *p;

	switch (get_u8(r))
	{
		case SHAPE_NULL:
			return NULL;
		case SHAPE_BYTES:
			p = get_bytes(r, &len);
			return plrust_from_utf8((const char *) p, len);
		default:
			malformed();
	}
}

/* ---- logging ---- */

static int
elevel_of(uint8 code)
{
	static const int levels[] = {DEBUG5, DEBUG4, DEBUG3, DEBUG2, DEBUG1, LOG, LOG_SERVER_ONLY,
	INFO, NOTICE, WARNING, ERROR};

	if (code >= lengthof(levels))
		malformed();
	return levels[code];
}

static char *
get_message(Reader *r)
{
	Size		len;
	const uint8_t *p = get_bytes(r, &len);

	return plrust_message_text(p, len, MAX_LOG_MESSAGE);
}

static void
log_op(Reader *r)
{
	int			elevel = elevel_of(get_u8(r));
	const char *state = (const char *) take(r, 5);
	char	   *message = get_message(r);
	char	   *detail = get_message(r);
	char	   *hint = get_message(r);
	int			code;
	int			i;

	for (i = 0; i < 5; i++)
		if (!((state[i] >= '0' && state[i] <= '9') || (state[i] >= 'A' && state[i] <= 'Z')))
			malformed();
	code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
	/* an ERROR needs a code of the error classes, as PostgreSQL's own do */
	if (elevel >= ERROR && (state[0] == '0' && (state[1] == '0' || state[1] == '1' || state[1] == '2')))
		code = ERRCODE_INTERNAL_ERROR;
	ereport(elevel,
			(errcode(code),
			 errmsg_internal("%s", message),
			 detail[0] != '\0' ? errdetail_internal("%s", detail) : 0,
			 hint[0] != '\0' ? errhint("%s", hint) : 0));
}

/* ---- queries ---- */

static void
put_column(StringInfo out, Datum d, bool isnull, const PlrustType *t, Oid type_oid)
{
	PlrustValue v;

	if (isnull)
	{
		put_u8(out, SHAPE_NULL);
		return;
	}
	if (t != NULL)
	{
		plrust_value_from_datum(&v, d, t);
		put_value(out, &v);
	}
	else
	{
		Oid			output;
		bool		varlena;
		char	   *text;
		char	   *utf8;

		getTypeOutputInfo(type_oid, &output, &varlena);
		text = OidOutputFunctionCall(output, d);
		utf8 = plrust_to_utf8(text, strlen(text));
		put_u8(out, SHAPE_BYTES);
		put_bytes(out, utf8, strlen(utf8));
	}
}

static Datum row_arg(const PlrustValue *v, uint32 i, Oid *type);
static Datum rows_arg(Reader *r, uint32 i, Oid *type, Oid elem, char *null);

/*
 * The type OID a column is described with to the runtime (query replies,
 * row types): a domain's base type when its values travel converted, as the
 * Rust type is the base type's.
 */
static Oid
described_type(Form_pg_attribute att, PlrustType *t, bool *known)
{
	*known = !att->attisdropped && request_type_of(att->atttypid, t);
	return *known ? getBaseType(att->atttypid) : att->atttypid;
}

/*
 * The columns of a query's result or of a row type: their count, then each
 * one's name, the type OID it is described as, and whether it travels as
 * text; a row type also says which columns are dropped (the runtime's
 * Column::read_all reads both forms).
 */
static void
put_column_list(StringInfo out, TupleDesc desc, PlrustType *types, bool *known, bool with_dropped)
{
	int			c;

	put_u32(out, desc->natts);
	for (c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		Oid			described = described_type(att, &types[c], &known[c]);

		put_text(out, NameStr(att->attname));
		put_u32(out, described);
		put_u8(out, known[c] ? 0 : 1);
		if (with_dropped)
			put_u8(out, att->attisdropped ? 1 : 0);
	}
}

/* One query argument: its type and value (the text form of a type PL/Rust does not convert). */
static void
get_arg(Reader *r, uint32 i, Oid *type, Datum *value, char *null)
{
	PlrustType	t;
	Oid			elem;

	*type = get_u32(r);
	if (!OidIsValid(*type) || get_typtype(*type) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type with OID %u does not exist", *type),
				 errdetail("Argument %u names it.", i + 1)));
	/* a pseudo-type has no values of its own; record takes the row's type */
	if (get_typtype(*type) == TYPTYPE_PSEUDO && *type != RECORDOID && *type != RECORDARRAYOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("argument %u cannot have type %s", i + 1, format_type_be(*type))));
	if (*type == RECORDOID || get_typtype(getBaseType(*type)) == TYPTYPE_COMPOSITE)
	{
		PlrustValue v;

		get_scalar(r, &v, PLRUST_COMPOSITE);
		*null = v.is_null ? 'n' : ' ';
		*value = v.is_null ? (Datum) 0 : row_arg(&v, i, type);
		if (v.is_null && get_typtype(*type) == TYPTYPE_DOMAIN)
			domain_check((Datum) 0, true, *type, NULL, NULL);
	}
	else if (OidIsValid(elem = get_element_type(*type)) &&
			 (elem == RECORDOID || get_typtype(getBaseType(elem)) == TYPTYPE_COMPOSITE))
		*value = rows_arg(r, i, type, elem, null);
	else if (request_type_of(*type, &t))
	{
		PlrustValue v;

		get_value(r, &v, &t);
		*null = v.is_null ? 'n' : ' ';
		*value = v.is_null ? (Datum) 0 : plrust_value_to_datum(&v, &t);
		if (t.is_domain)
			domain_check(*value, v.is_null, *type, NULL, NULL);
	}
	else
	{
		char	   *text = get_text_form(r);
		Oid			input;
		Oid			ioparam;

		getTypeInputInfo(*type, &input, &ioparam);
		*null = text == NULL ? 'n' : ' ';
		*value = text == NULL ? (Datum) 0 : OidInputFunctionCall(input, text, ioparam, -1);
	}
}

static char *
get_utf8_text(Reader *r, const char *what)
{
	Size		len;
	const uint8_t *bytes = get_bytes(r, &len);

	if (memchr(bytes, '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("%s contains a NUL byte", what)));
	return plrust_from_utf8((const char *) bytes, len);
}

static void run_query(PlrustCallState *st, const char *query, uint32 nargs, Oid *types, Datum *values,
					  char *nulls, uint64 limit, StringInfo out);

static void
spi_op(PlrustCallState *st, Reader *r, StringInfo out)
{
	uint64		limit = get_u64(r);
	char	   *query = get_utf8_text(r, "query text");
	uint32		nargs = get_u32(r);
	Oid		   *types;
	Datum	   *values;
	char	   *nulls;
	uint32		i;

	if (nargs > r->len)
		malformed();
	types = palloc(sizeof(Oid) * Max(nargs, 1));
	values = palloc(sizeof(Datum) * Max(nargs, 1));
	nulls = palloc(Max(nargs, 1));
	for (i = 0; i < nargs; i++)
		get_arg(r, i, &types[i], &values[i], &nulls[i]);
	if (r->at != r->len)
		malformed();
	run_query(st, query, nargs, types, values, nulls, limit, out);
}

/*
 * fn_call: SELECT name($1::t1, ...), so that PostgreSQL resolves the
 * overload by the argument types, fills in DEFAULT arguments left off the
 * end, and checks EXECUTE privilege, as for any call the user could write.
 */
static void
fn_call_op(PlrustCallState *st, Reader *r, StringInfo out)
{
	char	   *name = get_utf8_text(r, "function name");
	uint32		nargs = get_u32(r);
	List	   *names = plrust_qualified_name_list(name);
	StringInfoData query;
	Oid		   *types;
	Datum	   *values;
	char	   *nulls;
	uint32		given = 0;
	uint32		i;

	if (nargs > r->len || nargs > FUNC_MAX_ARGS)
		ereport(ERROR,
				(errcode(ERRCODE_TOO_MANY_ARGUMENTS),
				 errmsg("cannot pass more than %d arguments to a function", FUNC_MAX_ARGS)));
	types = palloc(sizeof(Oid) * Max(nargs, 1));
	values = palloc(sizeof(Datum) * Max(nargs, 1));
	nulls = palloc(Max(nargs, 1));
	initStringInfo(&query);
	appendStringInfo(&query, "SELECT %s(", NameListToQuotedString(names));
	for (i = 0; i < nargs; i++)
	{
		if (get_u8(r) != 0)
		{
			/* DEFAULT: only at the end, where SQL can leave arguments off */
			get_u32(r);
			continue;
		}
		if (given < i)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument %u follows an Arg::Default argument", i + 1),
					 errhint("Only trailing arguments can take their DEFAULT value.")));
		get_arg(r, i, &types[given], &values[given], &nulls[given]);
		appendStringInfo(&query, "%s$%u::%s", given > 0 ? ", " : "", given + 1, format_type_be_qualified(types[given]));
		given++;
	}
	if (r->at != r->len)
		malformed();
	appendStringInfoChar(&query, ')');
	run_query(st, query.data, given, types, values, nulls, 1, out);
}

/*
 * Prepared plans by query text and argument types, kept for the session
 * as PL/pgSQL keeps its own: PostgreSQL's plan cache revalidates them after
 * DDL or a search_path change, and permissions are checked at every
 * execution. At most PLAN_CACHE_SIZE; a full cache starts again empty.
 */
#define PLAN_CACHE_SIZE 256

typedef struct PlanEntry
{
	uint32		hash;			/* of the query and the argument types */
	char	   *query;
	uint32		nargs;
	Oid		   *types;
	SPIPlanPtr	plan;
	struct PlanEntry *next;		/* same hash */
} PlanEntry;

static PlanEntry *plans[PLAN_CACHE_SIZE];
static int	nplans = 0;
static MemoryContext plan_cxt = NULL;

static void
forget_plans(void)
{
	int			i;

	for (i = 0; i < PLAN_CACHE_SIZE; i++)
	{
		PlanEntry  *e;

		for (e = plans[i]; e != NULL; e = e->next)
			SPI_freeplan(e->plan);
		plans[i] = NULL;
	}
	nplans = 0;
	MemoryContextReset(plan_cxt);
}

static SPIPlanPtr
cached_plan(const char *query, uint32 nargs, Oid *types)
{
	uint32		h = hash_bytes((const unsigned char *) query, strlen(query));
	PlanEntry  *e;
	SPIPlanPtr	plan;
	MemoryContext caller;

	if (nargs > 0)
		h ^= hash_bytes((const unsigned char *) types, sizeof(Oid) * nargs);
	for (e = plans[h % PLAN_CACHE_SIZE]; e != NULL; e = e->next)
		if (e->hash == h && e->nargs == nargs && strcmp(e->query, query) == 0 &&
			(nargs == 0 || memcmp(e->types, types, sizeof(Oid) * nargs) == 0))
			return e->plan;

	plan = SPI_prepare(query, (int) nargs, types);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("query failed: %s", SPI_result_code_string(SPI_result))));
	if (plan_cxt == NULL)
		plan_cxt = AllocSetContextCreate(plrust_top_context(), "PL/Rust query plans", ALLOCSET_SMALL_SIZES);
	if (nplans >= PLAN_CACHE_SIZE)
		forget_plans();
	if (SPI_keepplan(plan) != 0)
		return plan;			/* used once, freed with the SPI connection */
	caller = MemoryContextSwitchTo(plan_cxt);
	e = palloc(sizeof(PlanEntry));
	e->hash = h;
	e->query = pstrdup(query);
	e->nargs = nargs;
	e->types = nargs > 0 ? memcpy(palloc(sizeof(Oid) * nargs), types, sizeof(Oid) * nargs) : NULL;
	e->plan = plan;
	e->next = plans[h % PLAN_CACHE_SIZE];
	plans[h % PLAN_CACHE_SIZE] = e;
	nplans++;
	MemoryContextSwitchTo(caller);
	return plan;
}

static void
run_query(PlrustCallState *st, const char *query, uint32 nargs, Oid *types, Datum *values,
		  char *nulls, uint64 limit, StringInfo out)
{
	bool		read_only;
	int			rc;

	/*
	 * As in PL/pgSQL: a function that is not VOLATILE sees one snapshot and
	 * cannot write; a VOLATILE one sees its own earlier writes.
	 */
	read_only = st->fn->def->volatility != PROVOLATILE_VOLATILE;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_plan(cached_plan(query, nargs, types), values, nulls, read_only,
						  limit > (uint64) LONG_MAX ? 0 : (long) limit);
	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("query failed: %s", SPI_result_code_string(rc))));

	put_u64(out, SPI_processed);
	if (SPI_tuptable == NULL)
	{
		put_u32(out, 0);
		put_u64(out, 0);
	}
	else
	{
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PlrustType *types_out = palloc0(sizeof(PlrustType) * Max(desc->natts, 1));
		bool	   *known = palloc0(sizeof(bool) * Max(desc->natts, 1));
		int			c;
		uint64		row;

		put_column_list(out, desc, types_out, known, false);
		put_u64(out, SPI_processed);
		for (row = 0; row < SPI_processed; row++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[row];

			CHECK_FOR_INTERRUPTS();
			for (c = 0; c < desc->natts; c++)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(tuple, desc, c + 1, &isnull);

				put_column(out, d, isnull, known[c] ? &types_out[c] : NULL, TupleDescAttr(desc, c)->atttypid);
			}
		}
	}
	SPI_finish();
}

/* ---- rows of a set-returning function ---- */

/*
 * SETOF a composite type: PostgreSQL expects the row's fields as the
 * columns, and a NULL row as one whose fields are all NULL.
 */
static void
put_composite_row(PlrustCallState *st, Datum row, bool isnull)
{
	HeapTupleData tuple;

	if (isnull)
	{
		int			natts = st->rows_desc->natts;
		Datum	   *values = palloc0(sizeof(Datum) * Max(natts, 1));
		bool	   *nulls = palloc(sizeof(bool) * Max(natts, 1));

		memset(nulls, true, sizeof(bool) * Max(natts, 1));
		tuplestore_putvalues(st->rows, st->rows_desc, values, nulls);
		return;
	}
	tuple.t_data = DatumGetHeapTupleHeader(row);
	tuple.t_len = HeapTupleHeaderGetDatumLength(tuple.t_data);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuplestore_puttuple(st->rows, &tuple);
}

static void
rows_op(PlrustCallState *st, Reader *r)
{
	const PlrustDef *def = st->fn->def;
	int			ncols = def->ncols > 0 ? def->ncols : 1;
	Datum	   *values = palloc(sizeof(Datum) * ncols);
	bool	   *nulls = palloc(sizeof(bool) * ncols);
	MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "PL/Rust row", ALLOCSET_SMALL_SIZES);
	MemoryContext outer = CurrentMemoryContext;

	/* SETOF pair and TABLE(x pair) alike: PostgreSQL expects pair's fields as the columns */
	const PlrustType *one = def->ncols > 0 ? &def->col_types[0] : &def->ret_type;

	if (st->rows == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function is not set-returning"),
				 errdetail("Only a RETURNS SETOF or RETURNS TABLE function sends rows.")));
	if (get_u32(r) != (uint32) ncols)
		malformed();
	while (r->at < r->len)
	{
		int			c;

		MemoryContextSwitchTo(row_cxt);
		for (c = 0; c < ncols; c++)
		{
			const PlrustType *t = def->ncols > 0 ? &def->col_types[c] : &def->ret_type;
			PlrustValue v;

			get_value(r, &v, t);
			nulls[c] = v.is_null != 0;
			values[c] = nulls[c] ? (Datum) 0 : plrust_value_to_datum(&v, t);
			/* PostgreSQL does not check what a set-returning function returns */
			if (t->is_domain)
				domain_check(values[c], nulls[c], t->type_oid, NULL, NULL);
		}
		if (ncols == 1 && one->scalar == PLRUST_COMPOSITE && !one->is_array &&
			st->rows_desc->tdtypeid == getBaseType(one->type_oid))
			put_composite_row(st, values[0], nulls[0]);
		else
			tuplestore_putvalues(st->rows, st->rows_desc, values, nulls);
		MemoryContextSwitchTo(outer);
		MemoryContextReset(row_cxt);
		CHECK_FOR_INTERRUPTS();
	}
}

/* ---- triggers ---- */

static TriggerData *
trigger_of(PlrustCallState *st)
{
	if (st->trigger == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function was not called by a trigger")));
	return st->trigger;
}

static void
put_row(StringInfo out, HeapTuple tuple, TupleDesc desc, const PlrustType *types, const bool *known)
{
	int			c;

	if (tuple == NULL)
	{
		put_u8(out, 0);
		return;
	}
	put_u8(out, 1);
	for (c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		bool		isnull;
		Datum		d;

		if (att->attisdropped)
		{
			put_u8(out, SHAPE_NULL);
			continue;
		}
		d = heap_getattr(tuple, c + 1, desc, &isnull);
		put_column(out, d, isnull, known[c] ? &types[c] : NULL, att->atttypid);
	}
}

/* A row type: its OID and columns (name, type OID, whether it travels as text, dropped). */
static void
put_columns(StringInfo out, TupleDesc desc, PlrustType *types, bool *known)
{
	put_u32(out, desc->tdtypeid);
	put_column_list(out, desc, types, known, true);
}

static void
trigger_op(PlrustCallState *st, StringInfo out)
{
	TriggerData *td = trigger_of(st);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	TriggerEvent ev = td->tg_event;
	PlrustType *types = palloc0(sizeof(PlrustType) * Max(desc->natts, 1));
	bool	   *known = palloc0(sizeof(bool) * Max(desc->natts, 1));
	bool		row = TRIGGER_FIRED_FOR_ROW(ev);
	int			i;

	put_text(out, td->tg_trigger->tgname);
	put_text(out, RelationGetRelationName(td->tg_relation));
	put_text(out, get_namespace_name(RelationGetNamespace(td->tg_relation)));
	put_u8(out, TRIGGER_FIRED_BEFORE(ev) ? 0 : TRIGGER_FIRED_AFTER(ev) ? 1 : 2);
	put_u8(out, row ? 0 : 1);
	put_u8(out, TRIGGER_FIRED_BY_INSERT(ev) ? 0 : TRIGGER_FIRED_BY_UPDATE(ev) ? 1 : TRIGGER_FIRED_BY_DELETE(ev) ? 2 : 3);
	put_u32(out, td->tg_trigger->tgnargs);
	for (i = 0; i < td->tg_trigger->tgnargs; i++)
		put_text(out, td->tg_trigger->tgargs[i]);
	put_columns(out, desc, types, known);
	put_row(out, row && TRIGGER_FIRED_BY_INSERT(ev) ? td->tg_trigtuple
			: row && TRIGGER_FIRED_BY_UPDATE(ev) ? td->tg_newtuple : NULL, desc, types, known);
	put_row(out, row && (TRIGGER_FIRED_BY_UPDATE(ev) || TRIGGER_FIRED_BY_DELETE(ev)) ? td->tg_trigtuple : NULL,
			desc, types, known);
}

/*
 * The values of a row the function built, read against desc: each column in
 * its own type's shape, or as text for a type PL/Rust does not convert, so a
 * value of the wrong shape fails as malformed rather than being misread.
 */
static void
form_row(Reader *r, TupleDesc desc, Datum *values, bool *nulls)
{
	int			c;

	for (c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		PlrustType	t;

		if (att->attisdropped)
		{
			if (get_u8(r) != SHAPE_NULL)
				malformed();
			nulls[c] = true;
			values[c] = (Datum) 0;
		}
		else if (request_type_of(att->atttypid, &t))
		{
			PlrustValue v;

			get_value(r, &v, &t);
			nulls[c] = v.is_null != 0;
			values[c] = nulls[c] ? (Datum) 0 : plrust_value_to_datum(&v, &t);
			if (t.is_domain)
				domain_check(values[c], nulls[c], att->atttypid, NULL, NULL);
			if (!nulls[c] && att->atttypmod >= 0)
			{
				/*
				 * PostgreSQL does not check a trigger's row against the
				 * column's modifier (varchar(3), numeric(10,2)); the type's
				 * input function does, as for a value written in SQL.
				 */
				Oid			output;
				Oid			input;
				Oid			ioparam;
				bool		varlena;

				getTypeOutputInfo(att->atttypid, &output, &varlena);
				getTypeInputInfo(att->atttypid, &input, &ioparam);
				values[c] = OidInputFunctionCall(input, OidOutputFunctionCall(output, values[c]), ioparam,
												 att->atttypmod);
			}
		}
		else
		{
			char	   *text = get_text_form(r);
			Oid			input;
			Oid			ioparam;

			getTypeInputInfo(att->atttypid, &input, &ioparam);
			nulls[c] = text == NULL;
			values[c] = text == NULL ? (Datum) 0 : OidInputFunctionCall(input, text, ioparam, att->atttypmod);
		}
	}
}

/* The row a trigger function returned: it must have the triggering table's row type. */
static void
trigger_return_op(PlrustCallState *st, Reader *r)
{
	TriggerData *td = trigger_of(st);
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	Datum	   *values;
	bool	   *nulls;
	MemoryContext work;

	st->trigger_result = NULL;
	if (get_u8(r) == 0)
		return;
	if (get_u32(r) != desc->tdtypeid || get_u32(r) != (uint32) desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("returned row structure does not match the structure of the triggering table")));
	values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	form_row(r, desc, values, nulls);
	if (r->at != r->len)
		malformed();
	work = MemoryContextSwitchTo(st->call_cxt);
	st->trigger_result = heap_form_tuple(desc, values, nulls);
	MemoryContextSwitchTo(work);
}

/* ---- composite types ---- */

/*
 * The described columns of the row types composite arguments had, per
 * backend. Describing a column looks its type up in the catalogs, which
 * costs more than the rest of passing a small row; an entry is used only
 * while the row type's identifier (a new one after every ALTER TYPE, and
 * one per blessed record type) is the one it was made for.
 */
typedef struct RowTypeKey
{
	Oid			typid;
	int32		typmod;
} RowTypeKey;

typedef struct RowTypeEntry
{
	RowTypeKey	key;
	uint64		identifier;
	PlrustType *types;			/* per column; CacheMemoryContext */
	bool	   *known;
	char	   *columns;		/* what put_columns writes */
	int			columns_len;
} RowTypeEntry;

static HTAB *row_types = NULL;

static RowTypeEntry *
described_row_type(TupleDesc desc, Oid typid, int32 typmod)
{
	RowTypeKey	key = {.typid = typid,.typmod = typmod};
	uint64		identifier = assign_record_type_identifier(typid, typmod);
	RowTypeEntry *e;
	bool		found;
	StringInfoData columns;
	PlrustType *types;
	bool	   *known;

	if (row_types == NULL)
	{
		HASHCTL		ctl = {.keysize = sizeof(RowTypeKey),.entrysize = sizeof(RowTypeEntry),.hcxt = CacheMemoryContext};

		row_types = hash_create("PL/Rust row types", 32, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(row_types, &key, HASH_FIND, NULL);
	if (e != NULL && e->identifier == identifier)
		return e;

	/* described before the entry changes, so that an ERROR leaves the old entry whole */
	types = MemoryContextAllocZero(CacheMemoryContext, sizeof(PlrustType) * Max(desc->natts, 1));
	known = MemoryContextAllocZero(CacheMemoryContext, sizeof(bool) * Max(desc->natts, 1));
	initStringInfo(&columns);
	put_columns(&columns, desc, types, known);

	e = hash_search(row_types, &key, HASH_ENTER, &found);
	if (found)
	{
		pfree(e->types);
		pfree(e->known);
		pfree(e->columns);
	}
	e->identifier = identifier;
	e->types = types;
	e->known = known;
	e->columns = MemoryContextAlloc(CacheMemoryContext, columns.len);
	memcpy(e->columns, columns.data, columns.len);
	e->columns_len = columns.len;
	pfree(columns.data);
	return e;
}

/*
 * A composite argument travels as bytes: its row type (as OP_TYPE replies)
 * and its row (as OP_TRIGGER sends one), so the runtime reads it with the
 * code that reads trigger rows and the isolation runner copies it as bytes.
 */
void
plrust_composite_arg(PlrustValue *v, Datum d)
{
	HeapTupleHeader header = DatumGetHeapTupleHeader(d);
	Oid			typid = HeapTupleHeaderGetTypeId(header);
	int32		typmod = HeapTupleHeaderGetTypMod(header);
	TupleDesc	desc = lookup_rowtype_tupdesc(typid, typmod);
	RowTypeEntry *described = described_row_type(desc, typid, typmod);
	HeapTupleData tuple;
	StringInfoData out;

	tuple.t_len = HeapTupleHeaderGetDatumLength(header);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = header;
	initStringInfo(&out);
	appendBinaryStringInfo(&out, described->columns, described->columns_len);
	put_row(&out, &tuple, desc, described->types, described->known);
	ReleaseTupleDesc(desc);
	memset(v, 0, sizeof(*v));
	v->shape = PLRUST_SHAPE_BYTES;
	v->v.bytes.ptr = out.data;
	v->v.bytes.len = out.len;
}

/*
 * A row of the named composite type type_oid the function built: the number
 * of columns and their types as the row type was described to it
 * (put_columns), then each value in its column's shape (form_row). A row
 * built before ALTER TYPE changed the type is refused, so that no value is
 * read as another column type of the same shape.
 */
static Datum
row_of_type(Reader *r, Oid type_oid)
{
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(type_oid, -1);
	uint32		ncols = get_u32(r);
	Datum	   *values;
	bool	   *nulls;
	int			c;

	if (ncols != (uint32) desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("row of type %s has %u columns, but the type has %d", format_type_be(type_oid), ncols,
						desc->natts),
				 errdetail("The type was changed after the row was built.")));
	for (c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);
		Oid			built = get_u32(r);
		PlrustType	t;
		bool		known;

		if (!att->attisdropped && built != described_type(att, &t, &known))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of type %s has type %s, but the row has a value of type %s",
							NameStr(att->attname), format_type_be(type_oid), format_type_be(att->atttypid),
							OidIsValid(built) && get_typtype(built) != '\0' ? format_type_be(built) : "unknown"),
					 errdetail("The type was changed after the row was built.")));
	}
	values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	form_row(r, desc, values, nulls);
	if (r->at != r->len)
		malformed();
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

static Reader
reader_of_bytes(const PlrustValue *v)
{
	Reader		r;

	if (v->shape != PLRUST_SHAPE_BYTES || (v->v.bytes.len > 0 && v->v.bytes.ptr == NULL))
		malformed();
	r.p = (const uint8_t *) v->v.bytes.ptr;
	r.len = v->v.bytes.len;
	r.at = 0;
	return r;
}

static const char *
row_type_name(Oid given)
{
	return OidIsValid(given) && get_typtype(given) == TYPTYPE_COMPOSITE ? format_type_be(given)
		: given == RECORDOID ? "record" : "unknown";
}

/*
 * A composite result: the row type's OID, the number of columns, the
 * values. For a domain over a composite type the row has the base type;
 * the caller checks the domain's constraints.
 */
Datum
plrust_composite_result(const PlrustValue *v, Oid type_oid)
{
	Reader		r = reader_of_bytes(v);
	Oid			base = getBaseType(type_oid);
	Oid			given = get_u32(&r);

	if (given != base || base == RECORDOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("returned row has type %s, but the function returns %s",
						row_type_name(given), format_type_be(type_oid)),
				 base == RECORDOID ? errhint("Declare the column with a named composite type.")
				 : errhint("Build the row with PgHeapTuple::new_composite_type(\"%s\").", format_type_be(base))));
	return row_of_type(&r, base);
}

/*
 * A row as a query argument: the row says its type, which must be the
 * composite type (or the domain's base type) the argument names; an
 * argument named record takes the row's own type. A row of a transient
 * record type has no type the query could name.
 */
static Datum
row_arg(const PlrustValue *v, uint32 i, Oid *type)
{
	Reader		r = reader_of_bytes(v);
	Oid			base = *type == RECORDOID ? RECORDOID : getBaseType(*type);
	Oid			given = get_u32(&r);
	Datum		d;

	if (!OidIsValid(given) || get_typtype(given) != TYPTYPE_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("argument %u is a row of type %s, which a query cannot name", i + 1, row_type_name(given)),
				 errhint("Build the row with PgHeapTuple::new_composite_type(\"name\") of a named composite type.")));
	if (base != RECORDOID && given != base)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("argument %u is a row of type %s, but its type is given as %s",
						i + 1, format_type_be(given), format_type_be(*type))));
	d = row_of_type(&r, given);
	if (base == RECORDOID)
		*type = given;
	else if (get_typtype(*type) == TYPTYPE_DOMAIN)
		domain_check(d, false, *type, NULL, NULL);
	return d;
}

/*
 * An array of rows as a query argument. For record[] the rows give the
 * element type, and must all have the same one.
 */
static Datum
rows_arg(Reader *r, uint32 i, Oid *type, Oid elem, char *null)
{
	PlrustType	rows = {.scalar = PLRUST_COMPOSITE, .is_array = true};
	Oid			row_type = elem == RECORDOID ? InvalidOid : elem;
	PlrustValue v;
	const PlrustValue *given_rows;
	Size		n;
	Datum	   *elems;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};
	int16		len;
	bool		byval;
	char		align;
	Size		k;

	get_value(r, &v, &rows);
	*null = v.is_null ? 'n' : ' ';
	if (v.is_null)
		return (Datum) 0;
	given_rows = v.v.array.ptr;
	n = v.v.array.len;
	elems = palloc0(sizeof(Datum) * Max(n, 1));
	nulls = palloc0(sizeof(bool) * Max(n, 1));
	for (k = 0; k < n; k++)
	{
		Oid			given = elem;

		nulls[k] = given_rows[k].is_null != 0;
		if (nulls[k])
			continue;
		elems[k] = row_arg(&given_rows[k], i, &given);
		if (!OidIsValid(row_type))
			row_type = given;
		else if (elem == RECORDOID && given != row_type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("argument %u is an array of rows of types %s and %s",
							i + 1, format_type_be(row_type), format_type_be(given)),
					 errdetail("The elements of an array have one type.")));
	}
	if (!OidIsValid(row_type))
		row_type = RECORDOID;	/* empty, or only NULLs: record[] stays record[] */
	else if (elem == RECORDOID)
		*type = get_array_type(row_type);
	if (!OidIsValid(*type))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type %s has no array type", format_type_be(row_type))));
	get_typlenbyvalalign(row_type, &len, &byval, &align);
	if (n == 0)
		return PointerGetDatum(construct_empty_array(row_type));
	dims[0] = (int) n;
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, row_type, len, byval, align));
}

/*
 * A composite value (or an array of them) that travelled as its text form
 * (a query's column, a row's field), read as rows for PgHeapTuple: the
 * type's input function parses it, as a cast from text would, and it comes
 * back as a value of the type's shape, each row as a composite argument.
 */
static void
row_op(Reader *r, StringInfo out)
{
	Oid			type = get_u32(r);
	char	   *text = get_utf8_text(r, "row text");
	PlrustType	t;
	Oid			input;
	Oid			ioparam;
	Datum		d;
	PlrustValue v;

	if (r->at != r->len)
		malformed();
	if (type == RECORDOID || type == RECORDARRAYOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a value of type %s cannot be read as a PgHeapTuple", format_type_be(type)),
				 errhint("Cast it to a named composite type in the query, as in ROW(1, 'a')::pair.")));
	if (!OidIsValid(type) || get_typtype(type) == '\0' || !plrust_type_of(type, &t) || t.scalar != PLRUST_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("type with OID %u is not a composite type or an array of one", type)));
	getTypeInputInfo(type, &input, &ioparam);
	d = OidInputFunctionCall(input, text, ioparam, -1);
	if (t.is_array)
		plrust_value_from_datum(&v, d, &t);
	else
		plrust_composite_arg(&v, d);
	put_value(out, &v);
}

/*
 * A row stored into a field of a composite type (or a domain over one),
 * which travels as text: the row must have the field's type, and becomes
 * the text its output function prints.
 */
static void
row_text_op(Reader *r, StringInfo out)
{
	Oid			type = get_u32(r);
	Size		len;
	const uint8_t *row = get_bytes(r, &len);
	Reader		rr = {row, len, 0};
	Oid			base;
	Oid			given;
	Oid			output;
	bool		varlena;
	Datum		d;
	char	   *text;

	if (r->at != r->len)
		malformed();
	if (!OidIsValid(type) || get_typtype(type) == '\0' || get_typtype(base = getBaseType(type)) != TYPTYPE_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("type with OID %u is not a composite type", type)));
	given = get_u32(&rr);
	if (given != base)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a row of type %s cannot be stored in a field of type %s",
						row_type_name(given), format_type_be(type))));
	d = row_of_type(&rr, base);
	if (base != type)
		domain_check(d, false, type, NULL, NULL);
	getTypeOutputInfo(type, &output, &varlena);
	text = OidOutputFunctionCall(output, d);
	put_text(out, text);
}

/*
 * An anyelement or anyarray argument travels as bytes: the type this call
 * resolved, its element type (0 unless an array), whether the value is
 * converted (1) or its text form (0), and the value as put_column writes a
 * query column, so the runtime reads it with the query conversions. A
 * domain's value is its base type's, the type PostgreSQL resolves the call
 * to.
 */
void
plrust_any_arg(PlrustValue *v, Datum d, Oid given_type, int argno)
{
	Oid			type_oid = getBaseType(given_type);
	PlrustType	t;
	bool		converted = request_type_of(type_oid, &t);
	StringInfoData out;

	if (converted && t.is_array && ARR_NDIM(DatumGetArrayTypeP(d)) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("PL/Rust functions accept only one-dimensional arrays"),
				 errdetail("Argument %d has %d dimensions.", argno, ARR_NDIM(DatumGetArrayTypeP(d)))));
	initStringInfo(&out);
	put_u32(&out, type_oid);
	put_u32(&out, get_element_type(type_oid));
	put_u8(&out, converted ? 1 : 0);
	put_column(&out, d, false, converted ? &t : NULL, type_oid);
	memset(v, 0, sizeof(*v));
	v->shape = PLRUST_SHAPE_BYTES;
	v->v.bytes.ptr = out.data;
	v->v.bytes.len = out.len;
}

/*
 * An anyelement or anyarray result: its type, which must be the one this
 * call resolved (a value never becomes a Datum of another type; for a
 * domain, its base type, whose constraints are then checked), then the
 * value as a query argument carries it.
 */
Datum
plrust_any_result(const PlrustValue *v, Oid type_oid)
{
	Oid			base = getBaseType(type_oid);
	Reader		r = reader_of_bytes(v);
	Oid			given = get_u32(&r);
	PlrustType	t;
	Datum		d;

	if (given != base)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("function returned a value of type %s, but this call returns %s",
						OidIsValid(given) && get_typtype(given) != '\0' ? format_type_be(given)
						: psprintf("OID %u", given),
						format_type_be(base)),
				 errdetail("A polymorphic result has the type PostgreSQL resolved for the call."),
				 errhint("Return an argument's value, or build one with AnyElement::new or AnyArray::new "
						 "from a Rust value of that type.")));
	if (request_type_of(base, &t))
	{
		PlrustValue value;

		get_value(&r, &value, &t);
		if (value.is_null)
			malformed();
		d = plrust_value_to_datum(&value, &t);
	}
	else
	{
		char	   *text = get_text_form(&r);
		Oid			input;
		Oid			ioparam;

		if (text == NULL)
			malformed();
		getTypeInputInfo(base, &input, &ioparam);
		d = OidInputFunctionCall(input, text, ioparam, -1);
	}
	if (r.at != r.len)
		malformed();
	if (base != type_oid)
		domain_check(d, false, type_oid, NULL, NULL);
	return d;
}

/* The columns of a named composite type, for PgHeapTuple::new_composite_type. */
static void
type_op(Reader *r, StringInfo out)
{
	char	   *name = get_utf8_text(r, "type name");
	Oid			type_oid;
	int32		typmod;
	TupleDesc	desc;
	PlrustType *types;
	bool	   *known;

	if (r->at != r->len)
		malformed();
	parse_type_missing_ok(name, &type_oid, &typmod);
	if (!OidIsValid(type_oid) || get_typtype(type_oid) != TYPTYPE_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a composite type", name),
				 errhint("Name a type made with CREATE TYPE ... AS (...) or a table's row type.")));
	desc = lookup_rowtype_tupdesc(type_oid, -1);
	types = palloc0(sizeof(PlrustType) * Max(desc->natts, 1));
	known = palloc0(sizeof(bool) * Max(desc->natts, 1));
	put_columns(out, desc, types, known);
	ReleaseTupleDesc(desc);
}

/* ---- the channel ---- */

/* Errors that end the call: the function must not carry on as if they had not happened. */
static bool
ends_call(const ErrorData *e)
{
	return e->elevel > ERROR || ERRCODE_TO_CATEGORY(e->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION;
}

static void
put_error_reply(StringInfo out, const ErrorData *e, bool abort)
{
	const char *state = unpack_sql_state(e->sqlerrcode);

	put_u8(out, abort ? 1 : 0);
	appendBinaryStringInfo(out, state, 5);
	put_text(out, e->message);
	put_text(out, e->detail);
	put_text(out, e->hint);
}

/* Copies the reply into a block the library owns; false when the host has no memory for it. */
static bool
hand_over(PlrustFunction *fn, const void *data, size_t len, PlrustSlice *reply)
{
	void	   *block;

	reply->ptr = NULL;
	reply->len = 0;
	if (len == 0)
		return true;
	block = fn->host.alloc(fn->host.ctx, len, 1);
	if (block == NULL)
		return false;
	memcpy(block, data, len);
	reply->ptr = block;
	reply->len = len;
	return true;
}

bool
plrust_fn_active(const PlrustFunction *fn)
{
	const PlrustCallState *st;

	for (st = plrust_current_call; st != NULL; st = st->outer)
		if (st->fn == fn)
			return true;
	return false;
}

int32_t
plrust_host_request(void *ctx, const uint8_t *msg, size_t len, PlrustSlice *reply)
{
	PlrustCallState *volatile st = plrust_current_call;
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	PlrustFunction *volatile active_fn = plrust_active_fn;
	char	   *volatile active_frame = plrust_active_frame;
	volatile sig_atomic_t in_host;
	MemoryContext work;
	StringInfoData out;
	ErrorData  *volatile failed = NULL;
	volatile bool subxact = false;
	volatile bool raising = false;
	int32_t		status;

	reply->ptr = NULL;
	reply->len = 0;
	if (st == NULL || ctx != (void *) &st->fn->hctx || st->fn->broken)
		return REPLY_NO_MEMORY;

	plrust_host_enter();
	/*
	 * The session's UTC offset is asked for by every timestamptz field,
	 * cast and calendar step, often twice per call; answering it needs no
	 * memory context and cannot raise an ERROR, so it skips both. A request
	 * it cannot answer takes the general path, which reports why.
	 */
	if (len == 4 + 9 && msg[0] == OP_TIMEZONE && msg[1] == 0 && msg[2] == 0 && msg[3] == 0)
	{
		uint8		offset[4];

		if (plrust_timezone_answer(msg + 4, len - 4, offset) == ZONE_OK &&
			hand_over(st->fn, offset, sizeof(offset), reply))
		{
			plrust_host_leave();
			return REPLY_OK;
		}
	}
	in_host = plrust_in_host;
	work = AllocSetContextCreate(caller, "PL/Rust request", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	initStringInfo(&out);

	PG_TRY();
	{
		Reader		r = {msg, len, 0};
		uint32		op = get_u32(&r);

		switch (op)
		{
			case OP_LOG:
				raising = true; /* whatever fails here, the function asked to report it */
				log_op(&r);
				raising = false;
				break;
			case OP_ROWS:
				raising = true; /* a set that lost rows must not be returned */
				rows_op(st, &r);
				raising = false;
				break;
			case OP_TRIGGER:
				trigger_op(st, &out);
				break;
			case OP_TIMEZONE:
				plrust_timezone_op(r.p + r.at, r.len - r.at, &out);
				break;
			case OP_SERVER_VERSION:
				plrust_server_version_op(r.len - r.at, &out);
				break;
			case OP_TYPE:
				type_op(&r, &out);
				break;
			case OP_TRIGGER_RETURN:
				raising = true; /* a row that cannot be stored must not be skipped silently */
				trigger_return_op(st, &r);
				raising = false;
				break;
			case OP_SPI:
			case OP_FN_CALL:
			case OP_ROW:
			case OP_ROW_TEXT:
				/* these run functions of any type, which may fail after taking resources */
				BeginInternalSubTransaction(NULL);
				subxact = true;
				MemoryContextSwitchTo(work);
				if (op == OP_SPI)
					spi_op(st, &r, &out);
				else if (op == OP_FN_CALL)
					fn_call_op(st, &r, &out);
				else if (op == OP_ROW)
					row_op(&r, &out);
				else
					row_text_op(&r, &out);
				ReleaseCurrentSubTransaction();
				subxact = false;
				CurrentResourceOwner = owner;
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("request %u is not known to this PL/Rust handler", op)));
		}
	}
	PG_CATCH();
	{
		/* a nested PL/Rust call may have ended in this ERROR: this call is the innermost again */
		plrust_current_call = st;
		plrust_active_fn = active_fn;
		plrust_active_frame = active_frame;
		plrust_in_host = in_host;
		st->fn->args = st->args;
		st->fn->arg_cxt = st->arg_cxt;

		MemoryContextSwitchTo(caller);
		failed = CopyErrorData();
		FlushErrorState();
		if (subxact)
		{
			RollbackAndReleaseCurrentSubTransaction();
			CurrentResourceOwner = owner;
		}
	}
	PG_END_TRY();
	MemoryContextSwitchTo(work);

	if (failed == NULL)
		status = hand_over(st->fn, out.data, out.len, reply) ? REPLY_OK : REPLY_NO_MEMORY;
	else
	{
		bool		abort = raising || ends_call(failed) || st->fn->broken;

		if (abort)
		{
			if (st->raise == NULL)
				st->raise = failed;
			else
				FreeErrorData(failed);
		}
		else
		{
			if (st->last_error != NULL)
				FreeErrorData(st->last_error);
			st->last_error = failed;
		}
		resetStringInfo(&out);
		put_error_reply(&out, failed, abort);
		status = hand_over(st->fn, out.data, out.len, reply) ? REPLY_ERROR : REPLY_NO_MEMORY;
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	plrust_host_leave();
	return status;
}

/*
 * After plrust_call: the error the call must end with (kept by a request),
 * or the query error the function returned as its Err (the same message),
 * to be raised as PostgreSQL raised it; NULL when there is neither.
 */
ErrorData *
plrust_call_error(PlrustCallState *st, int32 status, const PlrustError *error)
{
	if (st->raise != NULL)
		return st->raise;
	if (status == PLRUST_ERR && st->last_error != NULL && st->last_error->message != NULL)
	{
		char	   *message = plrust_message_text(error->message.ptr, error->message.len, 1024 * 1024);
		char	   *original = plrust_to_utf8(st->last_error->message, strlen(st->last_error->message));

		if (strcmp(message, original) == 0)
			return st->last_error;
	}
	return NULL;
}

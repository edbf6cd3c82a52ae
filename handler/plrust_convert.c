/*
 * plrust_convert.c — Datums to PlrustValues and back (docs/ABI.md, Values).
 *
 * Arguments point into the (detoasted) Datums wherever the bytes already
 * have the ABI's form, so text in a UTF-8 database and bytea are not copied;
 * what has to be built (detoasted values, element arrays) lives in the
 * function's argument context until the call ends. Results are copied into
 * the caller's context; the handler then gives the library's buffers back.
 */
#include "plrust.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

static void
text_arg(PlrustValue *v, const char *ptr, Size len)
{
	int			enc = GetDatabaseEncoding();

	if (enc == PG_SQL_ASCII)
		pg_verify_mbstr(PG_UTF8, ptr, (int) len, false);	/* Rust's str must be UTF-8 */
	else if (enc != PG_UTF8)
	{
		char	   *converted = pg_server_to_any(ptr, (int) len, PG_UTF8);

		if (converted != ptr)
		{
			ptr = converted;
			len = strlen(converted);
		}
	}
	v->shape = PLRUST_SHAPE_BYTES;
	v->v.bytes.ptr = ptr;
	v->v.bytes.len = len;
}

static void
scalar_arg(PlrustValue *v, Datum d, PlrustScalar scalar)
{
	switch (scalar)
	{
		case PLRUST_BOOL:
			v->v.b = DatumGetBool(d) ? 1 : 0;
			break;
		case PLRUST_INT2:
			v->v.i16 = DatumGetInt16(d);
			break;
		case PLRUST_INT4:
			v->v.i32 = DatumGetInt32(d);
			break;
		case PLRUST_INT8:
			v->v.i64 = DatumGetInt64(d);
			break;
		case PLRUST_FLOAT4:
			v->v.f32 = DatumGetFloat4(d);
			break;
		case PLRUST_FLOAT8:
			v->v.f64 = DatumGetFloat8(d);
			break;
		case PLRUST_TEXT:
		case PLRUST_VARCHAR:
			{
				text	   *t = DatumGetTextPP(d);

				text_arg(v, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case PLRUST_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(d);

				v->shape = PLRUST_SHAPE_BYTES;
				v->v.bytes.ptr = VARDATA_ANY(b);
				v->v.bytes.len = VARSIZE_ANY_EXHDR(b);
				break;
			}
		case PLRUST_VOID:
			elog(ERROR, "void is not an argument type");
			break;
		default:
			plrust_extra_arg(v, d, scalar);
	}
}

static void
array_arg(PlrustValue *v, Datum d, const PlrustType *t, int argno)
{
	ArrayType  *array = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	PlrustValue *values;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("PL/Rust functions accept only one-dimensional arrays"),
				 errdetail("Argument %d has %d dimensions.", argno, ARR_NDIM(array))));
	if (ARR_ELEMTYPE(array) != t->elem_oid)
		elog(ERROR, "array of type %u where %u was expected", ARR_ELEMTYPE(array), t->elem_oid);
	deconstruct_array(array, t->elem_oid, t->elem_len, t->elem_byval, t->elem_align,
					  &elems, &nulls, &n);
	values = palloc0(sizeof(PlrustValue) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			values[i].is_null = 1;
		else if (t->scalar == PLRUST_COMPOSITE)
			plrust_composite_arg(&values[i], elems[i]);
		else
			scalar_arg(&values[i], elems[i], t->scalar);
	}
	v->shape = PLRUST_SHAPE_ARRAY;
	v->v.array.ptr = values;
	v->v.array.len = n;
}

/* The type a polymorphic argument (argno >= 0) or the result (-1) has in this call. */
static Oid
resolved_type(FunctionCallInfo fcinfo, int argno)
{
	Oid			type = argno >= 0 ? get_fn_expr_argtype(fcinfo->flinfo, argno) : get_fn_expr_rettype(fcinfo->flinfo);

	if (!OidIsValid(type))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("could not determine the actual type of %s",
						argno >= 0 ? psprintf("argument %d", argno + 1) : "the result"),
				 errdetail("A PL/Rust function with anyelement or anyarray in its signature must be called "
						   "where PostgreSQL resolves its types, as in an ordinary query.")));
	return type;
}

void
plrust_args_from_datums(PlrustFunction *fn, FunctionCallInfo fcinfo)
{
	const PlrustDef *def = fn->def;
	MemoryContext caller = MemoryContextSwitchTo(fn->arg_cxt);
	int			i;

	for (i = 0; i < def->nargs; i++)
	{
		PlrustValue *v = &fn->args[i];
		const PlrustType *t = &def->arg_types[i];

		memset(v, 0, sizeof(*v));
		if (fcinfo->args[i].isnull)
			v->is_null = 1;
		else if (t->is_array)
			array_arg(v, fcinfo->args[i].value, t, i + 1);
		else if (t->scalar == PLRUST_COMPOSITE)
			plrust_composite_arg(v, fcinfo->args[i].value);
		else if (plrust_scalar_is_polymorphic(t->scalar))
			plrust_any_arg(v, fcinfo->args[i].value, resolved_type(fcinfo, i), i + 1);
		else
			scalar_arg(v, fcinfo->args[i].value, t->scalar);
	}
	MemoryContextSwitchTo(caller);
}

/* max_len counts bytes of text and bytea, elements of arrays */
static void
check_slice(const PlrustSlice *s, Size max_len, const char *unit)
{
	if (s->len > 0 && s->ptr == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("function returned an invalid value"),
				 errdetail("The value has a length of %zu %s but no data.", s->len, unit)));
	if (s->len > max_len)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("function result is too large"),
				 errdetail("The value has %zu %s; PostgreSQL stores at most %zu.", s->len, unit, max_len)));
}

static Datum
scalar_result(const PlrustValue *v, PlrustScalar scalar)
{
	switch (scalar)
	{
		case PLRUST_BOOL:
			return BoolGetDatum(v->v.b != 0);
		case PLRUST_INT2:
			return Int16GetDatum(v->v.i16);
		case PLRUST_INT4:
			return Int32GetDatum(v->v.i32);
		case PLRUST_INT8:
			return Int64GetDatum(v->v.i64);
		case PLRUST_FLOAT4:
			return Float4GetDatum(v->v.f32);
		case PLRUST_FLOAT8:
			return Float8GetDatum(v->v.f64);
		case PLRUST_TEXT:
		case PLRUST_VARCHAR:
			{
				int			enc = GetDatabaseEncoding();
				const char *ptr = v->v.bytes.ptr;
				Size		len = v->v.bytes.len;

				check_slice(&v->v.bytes, MaxAllocSize - VARHDRSZ, "bytes");
				/* also rejects NUL, which Rust strings may hold and text may not */
				pg_verify_mbstr(PG_UTF8, ptr, (int) len, false);
				if (enc != PG_UTF8 && enc != PG_SQL_ASCII)
				{
					char	   *converted = pg_any_to_server(ptr, (int) len, PG_UTF8);

					if (converted != ptr)
					{
						ptr = converted;
						len = strlen(converted);
					}
				}
				return PointerGetDatum(cstring_to_text_with_len(ptr, (int) len));
			}
		case PLRUST_BYTEA:
			{
				bytea	   *b;

				check_slice(&v->v.bytes, MaxAllocSize - VARHDRSZ, "bytes");
				b = palloc(VARHDRSZ + v->v.bytes.len);
				SET_VARSIZE(b, VARHDRSZ + v->v.bytes.len);
				if (v->v.bytes.len > 0)
					memcpy(VARDATA(b), v->v.bytes.ptr, v->v.bytes.len);
				return PointerGetDatum(b);
			}
		case PLRUST_VOID:
			break;
		default:
			return plrust_extra_result(v, scalar);
	}
	elog(ERROR, "unexpected PL/Rust result type");
	return (Datum) 0;
}

static Datum
array_result(const PlrustValue *v, const PlrustType *t)
{
	const PlrustValue *elems = v->v.array.ptr;
	Size		n = v->v.array.len;
	Datum	   *datums;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};
	Size		i;
	/* an array of a domain: every element meets its constraints, as array_in would check */
	bool		elem_domain = get_typtype(t->elem_oid) == TYPTYPE_DOMAIN;
	void	   *domain_extra = NULL;

	check_slice(&v->v.array, MaxArraySize, "elements");
	if (n == 0)
		return PointerGetDatum(construct_empty_array(t->elem_oid));
	datums = palloc(sizeof(Datum) * n);
	nulls = palloc(sizeof(bool) * n);
	for (i = 0; i < n; i++)
	{
		nulls[i] = elems[i].is_null != 0;
		datums[i] = nulls[i] ? (Datum) 0
			: t->scalar == PLRUST_COMPOSITE ? plrust_composite_result(&elems[i], t->elem_oid)
			: t->scalar == PLRUST_ENUM ? plrust_enum_result(&elems[i], getBaseType(t->elem_oid))
			: scalar_result(&elems[i], t->scalar);
		if (elem_domain)
			domain_check(datums[i], nulls[i], t->elem_oid, &domain_extra, CurrentMemoryContext);
	}
	dims[0] = (int) n;
	return PointerGetDatum(construct_md_array(datums, nulls, 1, dims, lbs, t->elem_oid,
											  t->elem_len, t->elem_byval, t->elem_align));
}

/* A query argument or result column (docs/ABI.md, "Host requests"): not NULL. */
void
plrust_value_from_datum(PlrustValue *v, Datum d, const PlrustType *t)
{
	memset(v, 0, sizeof(*v));
	if (t->is_array)
		array_arg(v, d, t, 0);
	else
		scalar_arg(v, d, t->scalar);
}

Datum
plrust_value_to_datum(const PlrustValue *v, const PlrustType *t)
{
	return t->is_array ? array_result(v, t)
		: t->scalar == PLRUST_COMPOSITE ? plrust_composite_result(v, t->type_oid)
		: t->scalar == PLRUST_ENUM ? plrust_enum_result(v, getBaseType(t->type_oid))
		: scalar_result(v, t->scalar);
}

Datum
plrust_result_to_datum(PlrustFunction *fn, FunctionCallInfo fcinfo, const PlrustValue *result, bool *isnull)
{
	const PlrustType *t = &fn->def->ret_type;
	Datum		value = (Datum) 0;

	*isnull = false;
	if (t->scalar == PLRUST_VOID)
		return (Datum) 0;
	if (result->is_null)
		*isnull = true;
	else
		value = t->is_array ? array_result(result, t)
			: plrust_scalar_is_polymorphic(t->scalar) ? plrust_any_result(result, resolved_type(fcinfo, -1))
			: t->scalar == PLRUST_COMPOSITE ? plrust_composite_result(result, t->type_oid)
			: t->scalar == PLRUST_ENUM ? plrust_enum_result(result, getBaseType(t->type_oid))
			: scalar_result(result, t->scalar);
	if (t->is_domain)
		domain_check(value, *isnull, t->type_oid, NULL, NULL);
	return value;
}

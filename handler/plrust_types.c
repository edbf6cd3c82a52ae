/*
 * plrust_types.c — the types of docs/TYPES.md beyond bool, the integers,
 * the floats, text and bytea: Datums to PlrustValues and back.
 *
 * Fixed-size values travel as their bytes (PostgreSQL's own struct where it
 * has no padding, so an argument is not copied); numeric as the text
 * numeric_out prints and numeric_in reads, which gives PostgreSQL's exact
 * semantics (inet likewise, through inet_out and inet_in); ranges as three values: flags, lower bound, upper bound.
 * Results are validated here before they become Datums: a library built
 * against another runtime must not be able to hand PostgreSQL a date out of
 * range or an unnormalised box.
 */
#include "plrust.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/geo_decls.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/uuid.h"

/* Range flags, the first of a range's three values (runtime/src/convert_types.rs). */
#define RANGE_FLAG_EMPTY	0x01
#define RANGE_FLAG_LB_INC	0x02
#define RANGE_FLAG_UB_INC	0x04
#define RANGE_FLAG_LB_INF	0x08
#define RANGE_FLAG_UB_INF	0x10

/* The timetz bytes: time (8) and zone (4), without the struct's padding. */
#define TIMETZ_BYTES 12

static void check_len(const PlrustValue *v, Size len, const char *type);

StaticAssertDecl(sizeof(Interval) == 16, "interval travels as its 16 bytes");
StaticAssertDecl(sizeof(ItemPointerData) == 6, "tid travels as its 6 bytes");
StaticAssertDecl(sizeof(BOX) == 32, "box travels as its 32 bytes");

bool
plrust_extra_scalar_of(Oid type_oid, PlrustScalar *out)
{
	switch (type_oid)
	{
		case CHAROID: *out = PLRUST_CHAR; return true;
		case OIDOID: *out = PLRUST_OID; return true;
		case DATEOID: *out = PLRUST_DATE; return true;
		case TIMEOID: *out = PLRUST_TIME; return true;
		case TIMETZOID: *out = PLRUST_TIMETZ; return true;
		case TIMESTAMPOID: *out = PLRUST_TIMESTAMP; return true;
		case TIMESTAMPTZOID: *out = PLRUST_TIMESTAMPTZ; return true;
		case INTERVALOID: *out = PLRUST_INTERVAL; return true;
		case UUIDOID: *out = PLRUST_UUID; return true;
		case POINTOID: *out = PLRUST_POINT; return true;
		case BOXOID: *out = PLRUST_BOX; return true;
		case TIDOID: *out = PLRUST_TID; return true;
		case CSTRINGOID: *out = PLRUST_CSTRING; return true;
		case NUMERICOID: *out = PLRUST_NUMERIC; return true;
		case JSONOID: *out = PLRUST_JSON; return true;
		case JSONBOID: *out = PLRUST_JSONB; return true;
		case INETOID: *out = PLRUST_INET; return true;
		case ANYELEMENTOID: *out = PLRUST_ANYELEMENT; return true;
		case ANYARRAYOID: *out = PLRUST_ANYARRAY; return true;
		case INT4RANGEOID: *out = PLRUST_INT4RANGE; return true;
		case INT8RANGEOID: *out = PLRUST_INT8RANGE; return true;
		case NUMRANGEOID: *out = PLRUST_NUMRANGE; return true;
		case DATERANGEOID: *out = PLRUST_DATERANGE; return true;
		case TSRANGEOID: *out = PLRUST_TSRANGE; return true;
		case TSTZRANGEOID: *out = PLRUST_TSTZRANGE; return true;
		default: return false;
	}
}

bool
plrust_scalar_has_buffers(PlrustScalar s)
{
	switch (s)
	{
		case PLRUST_TEXT:
		case PLRUST_VARCHAR:
		case PLRUST_BYTEA:
		case PLRUST_TIMETZ:
		case PLRUST_INTERVAL:
		case PLRUST_UUID:
		case PLRUST_POINT:
		case PLRUST_BOX:
		case PLRUST_TID:
		case PLRUST_CSTRING:
		case PLRUST_NUMERIC:
		case PLRUST_JSON:
		case PLRUST_JSONB:
		case PLRUST_INET:
		case PLRUST_ENUM:
		case PLRUST_COMPOSITE:
		case PLRUST_ANYELEMENT:
		case PLRUST_ANYARRAY:
			return true;
		default:
			return plrust_scalar_is_range(s);
	}
}

bool
plrust_scalar_is_polymorphic(PlrustScalar s)
{
	return s == PLRUST_ANYELEMENT || s == PLRUST_ANYARRAY;
}

bool
plrust_scalar_is_range(PlrustScalar s)
{
	return s >= PLRUST_INT4RANGE && s <= PLRUST_TSTZRANGE;
}

static Oid
range_oid(PlrustScalar s)
{
	switch (s)
	{
		case PLRUST_INT4RANGE: return INT4RANGEOID;
		case PLRUST_INT8RANGE: return INT8RANGEOID;
		case PLRUST_NUMRANGE: return NUMRANGEOID;
		case PLRUST_DATERANGE: return DATERANGEOID;
		case PLRUST_TSRANGE: return TSRANGEOID;
		default: return TSTZRANGEOID;
	}
}

PlrustScalar
plrust_range_subtype(PlrustScalar s)
{
	switch (s)
	{
		case PLRUST_INT4RANGE: return PLRUST_INT4;
		case PLRUST_INT8RANGE: return PLRUST_INT8;
		case PLRUST_NUMRANGE: return PLRUST_NUMERIC;
		case PLRUST_DATERANGE: return PLRUST_DATE;
		case PLRUST_TSRANGE: return PLRUST_TIMESTAMP;
		default: return PLRUST_TIMESTAMPTZ;
	}
}

static void
set_bytes(PlrustValue *v, const void *ptr, Size len)
{
	v->shape = PLRUST_SHAPE_BYTES;
	v->v.bytes.ptr = ptr;
	v->v.bytes.len = len;
}

/* Text in the server's encoding, as the UTF-8 Rust reads. */
static void
set_utf8(PlrustValue *v, char *text)
{
	char	   *utf8 = pg_server_to_any(text, (int) strlen(text), PG_UTF8);

	set_bytes(v, utf8, strlen(utf8));
}

/* A text-form result (json, jsonb, inet), read by the type's input function. */
static Datum
text_form_result(const PlrustValue *v, PGFunction in, const char *type)
{
	const char *p = v->v.bytes.ptr;
	Size		len = v->v.bytes.len;
	char	   *text;

	if (len > 0 && p == NULL)
		check_len(v, 0, type);
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("function result is too large"),
				 errdetail("The value has %zu bytes; PostgreSQL stores at most %zu.", len, (Size) (MaxAllocSize - VARHDRSZ))));
	/* also rejects NUL, which the text form cannot hold */
	pg_verify_mbstr(PG_UTF8, p, (int) len, false);
	text = pg_any_to_server(p, (int) len, PG_UTF8);
	if (text == p)
		text = pnstrdup(p, len);
	return DirectFunctionCall1(in, CStringGetDatum(text));
}

/* An enum result: its label, read by enum_in, which refuses a label the type lacks. */
Datum
plrust_enum_result(const PlrustValue *v, Oid enum_type)
{
	const char *p = v->v.bytes.ptr;
	Size		len = v->v.bytes.len;
	char	   *label;

	if (len > 0 && p == NULL)
		check_len(v, 0, "enum");
	if (len > NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input value for enum %s", format_type_be(enum_type)),
				 errdetail("The function returned a label of %zu bytes; enum labels have at most %d.",
						   len, NAMEDATALEN - 1)));
	pg_verify_mbstr(PG_UTF8, p, (int) len, false);
	label = pg_any_to_server(p, (int) len, PG_UTF8);
	if (label == p)
		label = pnstrdup(p, len);
	return DirectFunctionCall2(enum_in, CStringGetDatum(label), ObjectIdGetDatum(enum_type));
}

static void
bound_arg(PlrustValue *v, Datum d, PlrustScalar sub)
{
	if (sub == PLRUST_INT4)
		v->v.i32 = DatumGetInt32(d);
	else if (sub == PLRUST_INT8)
		v->v.i64 = DatumGetInt64(d);
	else
		plrust_extra_arg(v, d, sub);
}

static void
range_arg(PlrustValue *v, Datum d, PlrustScalar s)
{
	RangeType  *r = DatumGetRangeTypeP(d);
	TypeCacheEntry *tc = lookup_type_cache(range_oid(s), TYPECACHE_RANGE_INFO);
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;
	PlrustValue *parts = palloc0(sizeof(PlrustValue) * 3);
	uint8		flags = 0;

	range_deserialize(tc, r, &lower, &upper, &empty);
	if (empty)
		flags = RANGE_FLAG_EMPTY;
	else
	{
		flags |= lower.inclusive ? RANGE_FLAG_LB_INC : 0;
		flags |= upper.inclusive ? RANGE_FLAG_UB_INC : 0;
		flags |= lower.infinite ? RANGE_FLAG_LB_INF : 0;
		flags |= upper.infinite ? RANGE_FLAG_UB_INF : 0;
	}
	parts[0].v.b = flags;
	parts[1].is_null = 1;
	parts[2].is_null = 1;
	if (!empty && !lower.infinite)
	{
		parts[1].is_null = 0;
		bound_arg(&parts[1], lower.val, plrust_range_subtype(s));
	}
	if (!empty && !upper.infinite)
	{
		parts[2].is_null = 0;
		bound_arg(&parts[2], upper.val, plrust_range_subtype(s));
	}
	v->shape = PLRUST_SHAPE_ARRAY;
	v->v.array.ptr = parts;
	v->v.array.len = 3;
}

void
plrust_extra_arg(PlrustValue *v, Datum d, PlrustScalar s)
{
	switch (s)
	{
		case PLRUST_CHAR:
			v->v.b = (uint8) DatumGetChar(d);
			break;
		case PLRUST_OID:
			v->v.i32 = (int32) DatumGetObjectId(d);
			break;
		case PLRUST_DATE:
			v->v.i32 = DatumGetDateADT(d);
			break;
		case PLRUST_TIME:
			v->v.i64 = DatumGetTimeADT(d);
			break;
		case PLRUST_TIMESTAMP:
		case PLRUST_TIMESTAMPTZ:
			v->v.i64 = DatumGetTimestamp(d);
			break;
		case PLRUST_TIMETZ:
			{
				TimeTzADT  *t = DatumGetTimeTzADTP(d);
				char	   *b = palloc(TIMETZ_BYTES);

				memcpy(b, &t->time, sizeof(t->time));
				memcpy(b + sizeof(t->time), &t->zone, sizeof(t->zone));
				set_bytes(v, b, TIMETZ_BYTES);
				break;
			}
		case PLRUST_INTERVAL:
			set_bytes(v, DatumGetIntervalP(d), sizeof(Interval));
			break;
		case PLRUST_UUID:
			set_bytes(v, DatumGetUUIDP(d)->data, UUID_LEN);
			break;
		case PLRUST_POINT:
			set_bytes(v, DatumGetPointP(d), sizeof(Point));
			break;
		case PLRUST_BOX:
			set_bytes(v, DatumGetBoxP(d), sizeof(BOX));
			break;
		case PLRUST_TID:
			set_bytes(v, DatumGetPointer(d), sizeof(ItemPointerData));
			break;
		case PLRUST_CSTRING:
			{
				const char *c = DatumGetCString(d);

				set_bytes(v, c, strlen(c) + 1);	/* with its NUL: a &CStr */
				break;
			}
		case PLRUST_NUMERIC:
			{
				char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, d));

				set_bytes(v, text, strlen(text));
				break;
			}
		case PLRUST_JSON:
			{
				text	   *t = DatumGetTextPP(d);

				set_utf8(v, text_to_cstring(t));
				break;
			}
		case PLRUST_JSONB:
			set_utf8(v, DatumGetCString(DirectFunctionCall1(jsonb_out, d)));
			break;
		case PLRUST_INET:
			set_utf8(v, DatumGetCString(DirectFunctionCall1(inet_out, d)));
			break;
		case PLRUST_ENUM:
			set_utf8(v, DatumGetCString(DirectFunctionCall1(enum_out, d)));
			break;
		default:
			if (plrust_scalar_is_range(s))
				range_arg(v, d, s);
			else
				elog(ERROR, "unexpected PL/Rust argument type %d", (int) s);
	}
}

static void
check_len(const PlrustValue *v, Size len, const char *type)
{
	if (v->v.bytes.len != len || v->v.bytes.ptr == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("function returned an invalid value"),
				 errdetail("A %s value is %zu bytes, not %zu.", type, len, v->v.bytes.len)));
}

static pg_noreturn void
out_of_range(const char *type)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("%s out of range", type),
			 errdetail("The function returned a value PostgreSQL cannot store.")));
}

static void *
copy_fixed(const PlrustValue *v, Size len, const char *type)
{
	void	   *p;

	check_len(v, len, type);
	p = palloc(len);
	memcpy(p, v->v.bytes.ptr, len);
	return p;
}

static Datum
range_result(const PlrustValue *v, PlrustScalar s)
{
	const PlrustValue *parts = v->v.array.ptr;
	TypeCacheEntry *tc = lookup_type_cache(range_oid(s), TYPECACHE_RANGE_INFO);
	PlrustScalar sub = plrust_range_subtype(s);
	RangeBound	lower = {0};
	RangeBound	upper = {0};
	uint8		flags;

	if (v->v.array.len != 3 || parts == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("function returned an invalid value"),
				 errdetail("A range is three values, not %zu.", v->v.array.len)));
	flags = parts[0].v.b;
	lower.lower = true;
	lower.infinite = (flags & RANGE_FLAG_LB_INF) != 0;
	lower.inclusive = (flags & RANGE_FLAG_LB_INC) != 0;
	upper.infinite = (flags & RANGE_FLAG_UB_INF) != 0;
	upper.inclusive = (flags & RANGE_FLAG_UB_INC) != 0;
	if (flags & RANGE_FLAG_EMPTY)
		return RangeTypePGetDatum(make_empty_range(tc));
	if ((!lower.infinite && parts[1].is_null) || (!upper.infinite && parts[2].is_null))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("function returned an invalid value"),
				 errdetail("A finite range bound is NULL.")));
	if (!lower.infinite)
		lower.val = sub == PLRUST_INT4 ? Int32GetDatum(parts[1].v.i32)
			: sub == PLRUST_INT8 ? Int64GetDatum(parts[1].v.i64)
			: plrust_extra_result(&parts[1], sub);
	if (!upper.infinite)
		upper.val = sub == PLRUST_INT4 ? Int32GetDatum(parts[2].v.i32)
			: sub == PLRUST_INT8 ? Int64GetDatum(parts[2].v.i64)
			: plrust_extra_result(&parts[2], sub);
	/* checks lower <= upper and puts discrete ranges into canonical form */
#if PG_VERSION_NUM >= 160000
	return RangeTypePGetDatum(make_range(tc, &lower, &upper, false, NULL));
#else
	return RangeTypePGetDatum(make_range(tc, &lower, &upper, false));
#endif
}

Datum
plrust_extra_result(const PlrustValue *v, PlrustScalar s)
{
	switch (s)
	{
		case PLRUST_CHAR:
			return CharGetDatum((char) v->v.b);
		case PLRUST_OID:
			return ObjectIdGetDatum((Oid) v->v.i32);
		case PLRUST_DATE:
			if (!DATE_NOT_FINITE(v->v.i32) && !IS_VALID_DATE(v->v.i32))
				out_of_range("date");
			return DateADTGetDatum(v->v.i32);
		case PLRUST_TIME:
			if (v->v.i64 < 0 || v->v.i64 > USECS_PER_DAY)
				out_of_range("time");
			return TimeADTGetDatum(v->v.i64);
		case PLRUST_TIMESTAMP:
		case PLRUST_TIMESTAMPTZ:
			if (!TIMESTAMP_NOT_FINITE(v->v.i64) && !IS_VALID_TIMESTAMP(v->v.i64))
				out_of_range("timestamp");
			return TimestampGetDatum(v->v.i64);
		case PLRUST_TIMETZ:
			{
				TimeTzADT  *t = palloc(sizeof(TimeTzADT));

				check_len(v, TIMETZ_BYTES, "timetz");
				memcpy(&t->time, v->v.bytes.ptr, sizeof(t->time));
				memcpy(&t->zone, (const char *) v->v.bytes.ptr + sizeof(t->time), sizeof(t->zone));
				if (t->time < 0 || t->time > USECS_PER_DAY || t->zone < -TZDISP_LIMIT || t->zone > TZDISP_LIMIT)
					out_of_range("timetz");
				return TimeTzADTPGetDatum(t);
			}
		case PLRUST_INTERVAL:
			return IntervalPGetDatum(copy_fixed(v, sizeof(Interval), "interval"));
		case PLRUST_UUID:
			return UUIDPGetDatum(copy_fixed(v, UUID_LEN, "uuid"));
		case PLRUST_POINT:
			return PointPGetDatum(copy_fixed(v, sizeof(Point), "point"));
		case PLRUST_BOX:
			{
				BOX		   *b = copy_fixed(v, sizeof(BOX), "box");

				/* box_in's invariant: high is the upper right corner */
				if (b->high.x < b->low.x)
				{
					float8		x = b->high.x;

					b->high.x = b->low.x;
					b->low.x = x;
				}
				if (b->high.y < b->low.y)
				{
					float8		y = b->high.y;

					b->high.y = b->low.y;
					b->low.y = y;
				}
				return BoxPGetDatum(b);
			}
		case PLRUST_TID:
			return PointerGetDatum(copy_fixed(v, sizeof(ItemPointerData), "tid"));
		case PLRUST_CSTRING:
			{
				const char *p = v->v.bytes.ptr;
				Size		len = v->v.bytes.len;

				if (p == NULL || len == 0 || p[len - 1] != '\0' || memchr(p, '\0', len - 1) != NULL)
					ereport(ERROR,
							(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
							 errmsg("function returned an invalid value"),
							 errdetail("A cstring ends with its only NUL byte.")));
				return CStringGetDatum(pstrdup(p));
			}
		case PLRUST_NUMERIC:
			{
				char	   *text;

				if (v->v.bytes.len > 0 && v->v.bytes.ptr == NULL)
					check_len(v, 0, "numeric");
				text = pnstrdup(v->v.bytes.ptr, v->v.bytes.len);
				return DirectFunctionCall3(numeric_in, CStringGetDatum(text),
										   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
			}
		case PLRUST_JSON:
			return text_form_result(v, json_in, "json");
		case PLRUST_JSONB:
			return text_form_result(v, jsonb_in, "jsonb");
		case PLRUST_INET:
			return text_form_result(v, inet_in, "inet");
		default:
			if (plrust_scalar_is_range(s))
				return range_result(v, s);
	}
	elog(ERROR, "unexpected PL/Rust result type %d", (int) s);
	return (Datum) 0;
}

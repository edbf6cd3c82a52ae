/*
 * plrust_timezone.c: the session's TimeZone for timestamptz values in
 * PL/Rust functions (docs/TYPES.md). The runtime crate has no time zone
 * database, so it asks the backend for the UTC offset PostgreSQL itself
 * would apply (one host request; forwarded unchanged under isolation).
 * Also the server's version: a library is built once for every major, and
 * some values mean different things across them (PostgreSQL 17 made the
 * extreme intervals infinite).
 */
#include "plrust.h"

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

/* what the offset is asked for (runtime/src/datum/session_zone.rs) */
#define OF_INSTANT 0
#define OF_LOCAL 1

/*
 * Payload: mode (u8), microseconds since 2000-01-01 (i64 little-endian).
 * Reply: the offset in seconds east of UTC (i32 little-endian).
 *
 * Never raises an ERROR (nothing it calls does), so that the request path
 * can answer it without a memory context or an error trap of its own.
 */
PlrustZoneAnswer
plrust_timezone_answer(const uint8_t *payload, size_t len, uint8 reply[4])
{
	uint64		raw = 0;
	Timestamp	usecs;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	uint32		east;

	if (len != 9 || payload[0] > OF_LOCAL)
		return ZONE_MALFORMED;
	for (int i = 7; i >= 0; i--)
		raw = (raw << 8) | payload[1 + i];
	usecs = (Timestamp) raw;

	if (TIMESTAMP_NOT_FINITE(usecs))
		tz = 0;
	else if (payload[0] == OF_INSTANT)
	{
		/*
		 * What timestamp2tm leaves in its zone argument, without the calendar
		 * fields it computes on the way: the same Julian-day range check,
		 * then pg_localtime of the whole second (floored, as for a negative
		 * timestamp).
		 */
		int64		secs = usecs / USECS_PER_SEC - (usecs % USECS_PER_SEC < 0 ? 1 : 0);
		int64		day = secs / SECS_PER_DAY - (secs % SECS_PER_DAY < 0 ? 1 : 0);
		pg_time_t	utime;

		if (day + POSTGRES_EPOCH_JDATE < 0 || day + POSTGRES_EPOCH_JDATE > (int64) PG_INT32_MAX)
			return ZONE_OUT_OF_RANGE;
		utime = (pg_time_t) (secs + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
		tz = (int) -pg_localtime(&utime, session_timezone)->tm_gmtoff;
	}
	else
	{
		if (timestamp2tm(usecs, NULL, &tm, &fsec, NULL, NULL) != 0)
			return ZONE_OUT_OF_RANGE;
		tz = DetermineTimeZoneOffset(&tm, session_timezone);
	}
	/* PostgreSQL counts seconds west of UTC */
	east = (uint32) (-tz);
	for (int i = 0; i < 4; i++)
		reply[i] = (uint8) (east >> (8 * i));
	return ZONE_OK;
}

void
plrust_timezone_op(const uint8_t *payload, size_t len, StringInfo out)
{
	uint8		reply[4];

	switch (plrust_timezone_answer(payload, len, reply))
	{
		case ZONE_MALFORMED:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("malformed request from a PL/Rust function library")));
			break;
		case ZONE_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
			break;
		case ZONE_OK:
			appendBinaryStringInfo(out, (const char *) reply, 4);
			break;
	}
}

/*
 * No payload. Reply: PG_VERSION_NUM of the running server (u32 little-endian).
 */
void
plrust_server_version_op(size_t len, StringInfo out)
{
	uint32		version = PG_VERSION_NUM;
	uint8		reply[4];

	if (len != 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed request from a PL/Rust function library")));
	for (int i = 0; i < 4; i++)
		reply[i] = (uint8) (version >> (8 * i));
	appendBinaryStringInfo(out, (const char *) reply, 4);
}

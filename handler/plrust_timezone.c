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
 */
void
plrust_timezone_op(const uint8_t *payload, size_t len, StringInfo out)
{
	uint64		raw = 0;
	Timestamp	usecs;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz = 0;
	uint32		east;
	uint8		reply[4];

	if (len != 9 || payload[0] > OF_LOCAL)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed request from a PL/Rust function library")));
	for (int i = 7; i >= 0; i--)
		raw = (raw << 8) | payload[1 + i];
	usecs = (Timestamp) raw;

	if (!TIMESTAMP_NOT_FINITE(usecs))
	{
		if (timestamp2tm(usecs, payload[0] == OF_INSTANT ? &tz : NULL, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		if (payload[0] == OF_LOCAL)
			tz = DetermineTimeZoneOffset(&tm, session_timezone);
	}
	/* PostgreSQL counts seconds west of UTC */
	east = (uint32) (-tz);
	for (int i = 0; i < 4; i++)
		reply[i] = (uint8) (east >> (8 * i));
	appendBinaryStringInfo(out, (const char *) reply, 4);
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

/*
 * plrust_util.c — checksums, file reading and encoding conversion.
 */
#include "plrust.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#endif
#include "common/sha2.h"

void
plrust_sha256_hex(const void *data, Size len, char out[PLRUST_SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int			i;

#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
#if PG_VERSION_NUM >= 150000
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0
#else
		pg_cryptohash_final(ctx, digest) < 0
#endif
		)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(ctx);
#else
	pg_sha256_ctx ctx;

	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, (const uint8 *) data, len);
	pg_sha256_final(&ctx, digest);
#endif

	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	out[PLRUST_SHA256_HEX_LEN] = '\0';
}

bool
plrust_is_sha256_hex(const char *s)
{
	int			i;

	for (i = 0; i < PLRUST_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[PLRUST_SHA256_HEX_LEN] == '\0';
}

char *
plrust_read_file(const char *path, Size max_size, Size *len_out)
{
	struct stat st;
	char	   *buf;
	Size		done = 0;
	int			fd;
	int			saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode))
	{
		errno = EINVAL;
		goto fail;
	}
	if ((Size) st.st_size > max_size)
	{
		errno = EFBIG;
		goto fail;
	}

	buf = palloc_extended((Size) st.st_size + 1, MCXT_ALLOC_HUGE);
	while (done < (Size) st.st_size)
	{
		ssize_t		n = read(fd, buf + done, (Size) st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			pfree(buf);
			goto fail;
		}
		if (n == 0)
			break;				/* shrank while reading: the checksum will tell */
		done += n;
	}
	close(fd);
	buf[done] = '\0';
	*len_out = done;
	return buf;

fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

char *
plrust_to_utf8(const char *s, int len)
{
	int			enc = GetDatabaseEncoding();
	char	   *converted;

	if (enc == PG_UTF8)
		return pnstrdup(s, len);
	if (enc == PG_SQL_ASCII)
	{
		/* SQL_ASCII stores any bytes; Rust strings must be valid UTF-8. */
		pg_verify_mbstr(PG_UTF8, s, len, false);
		return pnstrdup(s, len);
	}
	converted = pg_server_to_any(s, len, PG_UTF8);
	return converted == s ? pnstrdup(s, len) : converted;
}

char *
plrust_from_utf8(const char *s, Size len)
{
	int			enc = GetDatabaseEncoding();
	char	   *converted;

	if (len > MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("string of %zu bytes is too long", len)));
	/* Also rejects NUL bytes, which no PostgreSQL string may contain. */
	pg_verify_mbstr(PG_UTF8, s, (int) len, false);
	if (enc == PG_UTF8 || enc == PG_SQL_ASCII)
		return pnstrdup(s, len);
	converted = pg_any_to_server(s, (int) len, PG_UTF8);
	return converted == s ? pnstrdup(s, len) : converted;
}

char *
plrust_message_text(const void *ptr, Size len, Size max_len)
{
	const unsigned char *p = ptr;
	char	   *out;
	Size		i;
	int			enc = GetDatabaseEncoding();

	if (p == NULL || len == 0)
		return pstrdup("");
	if (len > max_len)
	{
		len = max_len;
		while (len > 0 && (p[len] & 0xC0) == 0x80)
			len--;				/* do not cut a UTF-8 sequence in half */
	}

	if ((enc == PG_UTF8 || enc == PG_SQL_ASCII) &&
		pg_verify_mbstr(PG_UTF8, (const char *) p, (int) len, true))
		return pnstrdup((const char *) p, len);

	/*
	 * Anything else is reduced to ASCII: reporting an error must not fail
	 * on the encoding of the message that explains it.
	 */
	out = palloc(len + 1);
	for (i = 0; i < len; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\t' ? p[i] : '?';
	out[len] = '\0';
	return out;
}

/* Whether a List of C strings holds one equal to s (the lists are short: architectures). */
bool
plrust_list_has_string(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

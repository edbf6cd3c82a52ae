/*
 * plrust_isolation.c — process isolation (docs/ISOLATION.md): the
 * plrust.isolation setting, which applies by the function's owner, and the
 * backend's side of running function code in a confined runner process
 * (plrust_runner.c) instead of in this address space.
 *
 * One runner per backend, started on the first isolated call through
 * bubblewrap (posix_spawn, so nothing of this process's memory is copied)
 * and restarted after it dies. Libraries are checked here exactly as for
 * in-process loading and handed over as sealed memfds; calls cross through
 * a shared region with a futex handshake (plrust_isolation.h). Whatever the
 * runner writes back is untrusted: every length, offset and shape is
 * checked before the backend uses it, and any fault of the runner is an
 * ERROR of the call.
 */
#include "plrust.h"
#include "plrust_isolation.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_proc.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#define BWRAP "/usr/bin/bwrap"
#define RUNNER_NAME "plrust_runner"
#define START_TIMEOUT_MS 10000
/* How long a cancelled call may take to stop at a checkpoint before the runner is killed. */
#define CANCEL_GRACE_MS 200
#define SPIN_MAX_NS 200000
#define SPIN_MIN_NS 2000
#define POLL_MS 10
/* Beyond plrust.memory_limit: the C library, the loaded code and its static data. */
#define DATA_SLACK ((uint64) 256 * 1024 * 1024)

typedef enum
{
	ISOLATION_IN_PROCESS,
	ISOLATION_PROCESS
} IsolationMode;

static const struct config_enum_entry isolation_options[] = {
	{"in-process", ISOLATION_IN_PROCESS, false},
	{"process", ISOLATION_PROCESS, false},
	{NULL, 0, false}
};

static int	plrust_isolation = ISOLATION_IN_PROCESS;
/* The value of the server's configuration (file, command line), the fallback for every owner. */
static int	server_isolation = ISOLATION_IN_PROCESS;

typedef struct Runner
{
	pid_t		pid;			/* bwrap's, 0 when there is no runner */
	int			sock;
	int			stderr_fd;
	char	   *region;
	PlrustIsoHeader *hdr;
	uint64		epoch;			/* bumped at every start: libraries load again */
	uint64		top;			/* where the next command's data may start */
} Runner;

static Runner runner = {.sock = -1,.stderr_fd = -1,.top = PLRUST_ISO_HEADER_SIZE};
static uint32 next_lib_id = 1;

/*
 * Values come with their source only to the check hook; it tells the
 * assign hook (through extra, which PostgreSQL keeps with the value, also
 * when a rollback restores it) whether the value is the server's own.
 */
static bool
check_isolation(int *newval, void **extra, GucSource source)
{
	bool	   *from_server = malloc(sizeof(bool));

	if (from_server == NULL)
		return false;
	*from_server = source <= PGC_S_ARGV;
	*extra = from_server;
	return true;
}

static void
assign_isolation(int newval, void *extra)
{
	if (extra != NULL && *(bool *) extra)
		server_isolation = newval;
}

void
plrust_isolation_define_guc(void)
{
	DefineCustomEnumVariable("plrust.isolation",
							 "Where PL/Rust function code runs: in-process or process.",
							 "Applies by the function's owner: the owner's ALTER ROLE ... IN DATABASE, ALTER ROLE, "
							 "ALTER DATABASE, ALTER ROLE ALL setting, else the server's configuration; "
							 "a session's SET changes nothing.",
							 &plrust_isolation, ISOLATION_IN_PROCESS, isolation_options,
							 PGC_SUSET, 0, check_isolation, assign_isolation, NULL);
}

/* ---- which mode applies ---- */

/* The value of plrust.isolation in one pg_db_role_setting entry; -1 when it sets none. */
static int
setting_in(Oid db, Oid role)
{
	Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	int			found = -1;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(db));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true, NULL, 2, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig, RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			Datum	   *items;
			bool	   *nulls;
			int			n;
			int			i;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &n);
			for (i = 0; i < n; i++)
			{
				char	   *item;

				if (nulls[i])
					continue;
				item = TextDatumGetCString(items[i]);
				if (pg_strncasecmp(item, "plrust.isolation=", 17) == 0)
					found = pg_strcasecmp(item + 17, "process") == 0 ? ISOLATION_PROCESS : ISOLATION_IN_PROCESS;
			}
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The owner's setting in this database, the owner's, the database's, the
 * one for all roles (the order PostgreSQL applies them at login), else the
 * server's configuration. Whoever calls the function, and whatever the
 * calling session set, where its code runs is decided by its owner.
 */
bool
plrust_isolation_wanted(const PlrustDef *def)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(def->fn_oid));
	Oid			owner;
	int			mode;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", def->fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	if ((mode = setting_in(MyDatabaseId, owner)) < 0 &&
		(mode = setting_in(InvalidOid, owner)) < 0 &&
		(mode = setting_in(MyDatabaseId, InvalidOid)) < 0 &&
		(mode = setting_in(InvalidOid, InvalidOid)) < 0)
		mode = server_isolation;
	return mode == ISOLATION_PROCESS;
}

/* ---- the runner's life ---- */

/* Ends the runner (if any) and forgets it; its libraries load again in the next one. */
static void
stop_runner(void)
{
	if (runner.pid > 0)
	{
		int			st;

		kill(runner.pid, SIGKILL);
		while (waitpid(runner.pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (runner.region != NULL)
		munmap(runner.region, PLRUST_ISO_REGION_SIZE);
	if (runner.sock >= 0)
		close(runner.sock);
	if (runner.stderr_fd >= 0)
		close(runner.stderr_fd);
	runner.pid = 0;
	runner.region = NULL;
	runner.hdr = NULL;
	runner.sock = -1;
	runner.stderr_fd = -1;
	runner.top = PLRUST_ISO_HEADER_SIZE;
}

/* What bubblewrap said on its way out (it prints only its own failures). */
static char *
runner_stderr(void)
{
	char		buf[1024];
	ssize_t		n = runner.stderr_fd >= 0 ? read(runner.stderr_fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0)
		return pstrdup("");
	buf[n] = '\0';
	return plrust_message_text(buf, n, sizeof(buf));
}

/* The real path of a library this process has loaded, by the end of its name. */
typedef struct Wanted
{
	const char *suffix;
	char	   *path;
} Wanted;

static int
find_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	Wanted	   *w = arg;
	size_t		len = info->dlpi_name ? strlen(info->dlpi_name) : 0;
	size_t		slen = strlen(w->suffix);

	if (len >= slen && strcmp(info->dlpi_name + len - slen, w->suffix) == 0)
	{
		w->path = realpath(info->dlpi_name, NULL);
		return 1;
	}
	return 0;
}

static char *
loaded_library(const char *suffix)
{
	Wanted		w = {.suffix = suffix,.path = NULL};
	char	   *copy;

	dl_iterate_phdr(find_loaded, &w);
	if (w.path == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot find %s for the isolated PL/Rust process", suffix)));
	copy = pstrdup(w.path);
	free(w.path);
	return copy;
}

/* Function libraries need libgcc_s (unwinding); the runner links it, the box must hold it. */
static char *
libgcc_path(void)
{
	static void *handle = NULL;

	if (handle == NULL)
		handle = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot find libgcc_s.so.1 for the isolated PL/Rust process")));
	return loaded_library("/libgcc_s.so.1");
}

char *
plrust_runner_path(void)
{
	return psprintf("%s/%s", pkglib_path, RUNNER_NAME);
}

static void
refuse_start(const char *why, const char *detail)
{
	stop_runner();
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot start the isolated PL/Rust process: %s", why),
			 detail[0] != '\0' ? errdetail_internal("%s", detail) : 0,
			 errhint("plrust.isolation = process needs bubblewrap, unprivileged user namespaces and seccomp; "
					 "`plrust doctor` reports what this host lacks.")));
}

/* Moves a descriptor off 0-4, the numbers the runner's are given, so dup2 clears close-on-exec. */
static int
above_four(int fd)
{
	int			moved;

	if (fd > PLRUST_ISO_REGION_FD)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, PLRUST_ISO_REGION_FD + 1);
	close(fd);
	return moved;
}

static void
start_runner(void)
{
	char	   *runner_file = plrust_runner_path();
	char	   *ld = loaded_library(PLRUST_HOST_ARCH[0] == 'x' ? "/ld-linux-x86-64.so.2" : "/ld-linux-aarch64.so.1");
	char	   *libc = loaded_library("/libc.so.6");
	char	   *libgcc = libgcc_path();
	char		data_limit[32];
	char	   *argv[64];
	char	   *envp[] = {NULL};
	int			argc = 0;
	int			region_fd;
	int			socks[2];
	int			errpipe[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	uint64		deadline;
	int			rc;

	if (access(runner_file, X_OK) != 0)
		refuse_start("the runner is not installed", psprintf("%s: %s", runner_file, strerror(errno)));
	if (access(BWRAP, X_OK) != 0)
		refuse_start("bubblewrap is not installed", psprintf("%s: %s", BWRAP, strerror(errno)));

	/* sealed at its size: a region that shrank would fault the backend on its next access */
	region_fd = above_four(memfd_create("plrust-isolation", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (region_fd < 0)
		refuse_start("no shared memory", strerror(errno));
	if (ftruncate(region_fd, PLRUST_ISO_REGION_SIZE) != 0 ||
		fcntl(region_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
	{
		int			saved = errno;

		close(region_fd);
		refuse_start("no shared memory", strerror(saved));
	}
	runner.region = mmap(NULL, PLRUST_ISO_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
						 region_fd, 0);
	if (runner.region == MAP_FAILED)
	{
		runner.region = NULL;
		close(region_fd);
		refuse_start("cannot map shared memory", strerror(errno));
	}
	runner.hdr = (PlrustIsoHeader *) runner.region;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0 || pipe2(errpipe, O_CLOEXEC) != 0)
	{
		close(region_fd);
		refuse_start("no socket", strerror(errno));
	}
	socks[1] = above_four(socks[1]);
	errpipe[1] = above_four(errpipe[1]);
	runner.sock = socks[0];
	runner.stderr_fd = errpipe[0];
	fcntl(runner.stderr_fd, F_SETFL, O_NONBLOCK);

	/* an empty root with the C library, the runner and its own /proc; no network, no privileges */
#define ARG(s) (argv[argc++] = (char *) (s))
	ARG(BWRAP);
	ARG("--unshare-all");
	ARG("--unshare-user");
	ARG("--disable-userns");
	ARG("--die-with-parent");
	ARG("--new-session");
	ARG("--cap-drop");
	ARG("ALL");
	ARG("--clearenv");
	ARG("--ro-bind");
	ARG(ld);
	ARG("/lib/ld.so");
	ARG("--ro-bind");
	ARG(libc);
	ARG("/lib/libc.so.6");
	ARG("--ro-bind");
	ARG(libgcc);
	ARG("/lib/libgcc_s.so.1");
	ARG("--ro-bind");
	ARG(runner_file);
	ARG("/lib/" RUNNER_NAME);
	ARG("--proc");
	ARG("/proc");
	ARG("--remount-ro");
	ARG("/");
	ARG("--chdir");
	ARG("/");
	ARG("--");
	ARG("/lib/ld.so");
	ARG("--library-path");
	ARG("/lib");
	ARG("/lib/" RUNNER_NAME);
	snprintf(data_limit, sizeof(data_limit), UINT64_FORMAT,
			 plrust_memory_limit_kb > 0 ? (uint64) plrust_memory_limit_kb * 1024 + DATA_SLACK : (uint64) 0);
	ARG(data_limit);
	argv[argc] = NULL;
#undef ARG

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errpipe[1], 2);
	posix_spawn_file_actions_adddup2(&fa, socks[1], PLRUST_ISO_SOCKET_FD);
	posix_spawn_file_actions_adddup2(&fa, region_fd, PLRUST_ISO_REGION_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, PLRUST_ISO_REGION_FD + 1);
	/* its own process group: PostgreSQL signals the backend's group on cancel and terminate */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	rc = posix_spawn(&runner.pid, BWRAP, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(socks[1]);
	close(errpipe[1]);
	close(region_fd);
	if (rc != 0)
	{
		runner.pid = 0;
		refuse_start("cannot run bubblewrap", strerror(rc));
	}

	deadline = plrust_iso_now_ns() + (uint64) START_TIMEOUT_MS * 1000000;
	while (__atomic_load_n(&runner.hdr->state, __ATOMIC_SEQ_CST) != PLRUST_ISO_DONE)
	{
		struct timespec ts = {.tv_sec = 0,.tv_nsec = POLL_MS * 1000000L};
		int			st;

		syscall(SYS_futex, &runner.hdr->state, FUTEX_WAIT, PLRUST_ISO_IDLE, &ts, NULL, 0);
		if (waitpid(runner.pid, &st, WNOHANG) == runner.pid)
		{
			char	   *said = runner_stderr();

			runner.pid = 0;
			refuse_start("the sandbox failed to start",
						 said[0] != '\0' ? said
						 : psprintf("The runner exited with status %d before it was ready.",
									WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)));
		}
		if (plrust_iso_now_ns() > deadline)
			refuse_start("the runner did not become ready", "It was still starting after 10 seconds.");
	}
	runner.epoch++;
	runner.top = PLRUST_ISO_HEADER_SIZE;
}

/* ---- waiting for the runner ---- */

static void
leave_call(void)
{
	plrust_active_fn = NULL;
	plrust_active_frame = NULL;
}

static const char *
signal_text(int sig)
{
	switch (sig)
	{
		case SIGSEGV:
			return "a memory access fault (SIGSEGV)";
		case SIGBUS:
			return "a bus error (SIGBUS)";
		case SIGSYS:
			return "a system call the sandbox forbids (SIGSYS)";
		case SIGABRT:
			return "an abort (SIGABRT)";
		case SIGILL:
			return "an illegal instruction (SIGILL)";
		case SIGFPE:
			return "an arithmetic fault (SIGFPE)";
		case SIGKILL:
			return "SIGKILL (a resource limit, or the system)";
		default:
			return NULL;
	}
}

/* The runner died during a command: an ERROR of this call; the next call starts a new runner. */
pg_noreturn static void
report_death(const PlrustDef *def, int st)
{
	int			code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	int			sig = code > 128 ? code - 128 : 0;
	const char *what = sig > 0 ? signal_text(sig) : NULL;

	runner.pid = 0;
	stop_runner();
	leave_call();
	if (code == PLRUST_ISO_EXIT_OVERFLOW)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("function overflowed the stack"),
				 errdetail("Code the stack checks do not see (a large stack frame, the drop of a deeply nested "
						   "value) reached the end of the stack of the function's isolated process. "
						   "The process was ended; the next call starts a new one."),
				 errhint("Keep large data on the heap (Vec, Box) and deep structures shallow.")));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("PL/Rust function \"%s\" crashed its isolated process", def->name),
			 what != NULL ? errdetail("The process was ended by %s.", what)
			 : sig > 0 ? errdetail("The process was ended by signal %d.", sig)
			 : errdetail("The process exited with status %d.", code),
			 errhint("The session is unaffected; the next call starts a new process.")));
}

/*
 * Passes a cancel or terminate request on to the runner's checkpoints;
 * true once the runner has had the grace period to stop and has not.
 */
static bool
cancel_overdue(uint64 *cancel_at)
{
	if (InterruptPending && (QueryCancelPending || ProcDiePending) && *cancel_at == 0)
	{
		__atomic_store_n(&runner.hdr->interrupt, 1, __ATOMIC_SEQ_CST);
		*cancel_at = plrust_iso_now_ns();
	}
	return *cancel_at != 0 && plrust_iso_now_ns() - *cancel_at > (uint64) CANCEL_GRACE_MS * 1000000;
}

/*
 * Until the runner posts DONE or REQUEST. Spins briefly (most calls are
 * short), then sleeps on the futex, looking at interrupts and at the
 * runner's life every few milliseconds. A runner that does not stop within
 * the grace period after a request, code without checkpoints (a loop
 * inside std, a sleep) or one that keeps sending host requests, is ended.
 */
static uint32
await_runner(const PlrustDef *def, uint64 *cancel_at, bool *canceled)
{
	static uint64 spin_ns = SPIN_MAX_NS;
	uint64		start = plrust_iso_now_ns();
	uint32		s;

	if (cancel_overdue(cancel_at))
	{
		stop_runner();
		*canceled = true;
		return PLRUST_ISO_DONE;
	}

	for (;;)
	{
		s = __atomic_load_n(&runner.hdr->state, __ATOMIC_SEQ_CST);
		if (s == PLRUST_ISO_DONE || s == PLRUST_ISO_REQUEST)
		{
			spin_ns = Min(spin_ns * 2, SPIN_MAX_NS);
			return s;
		}
		if (plrust_iso_now_ns() - start > spin_ns)
		{
			/* as the runner's: a spin that ended in the futex halves the next one */
			spin_ns = Max(spin_ns / 2, SPIN_MIN_NS);
			break;
		}
#if defined(__x86_64__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ volatile("yield");
#endif
	}
	for (;;)
	{
		struct timespec ts = {.tv_sec = 0,.tv_nsec = POLL_MS * 1000000L};
		int			st;

		__atomic_store_n(&runner.hdr->sleeping[0], 1, __ATOMIC_SEQ_CST);
		s = __atomic_load_n(&runner.hdr->state, __ATOMIC_SEQ_CST);
		if (s != PLRUST_ISO_DONE && s != PLRUST_ISO_REQUEST)
			syscall(SYS_futex, &runner.hdr->state, FUTEX_WAIT, s, &ts, NULL, 0);
		__atomic_store_n(&runner.hdr->sleeping[0], 0, __ATOMIC_SEQ_CST);
		s = __atomic_load_n(&runner.hdr->state, __ATOMIC_SEQ_CST);
		if (s == PLRUST_ISO_DONE || s == PLRUST_ISO_REQUEST)
			return s;

		if (waitpid(runner.pid, &st, WNOHANG) == runner.pid)
			report_death(def, st);
		if (cancel_overdue(cancel_at))
		{
			stop_runner();
			*canceled = true;
			return PLRUST_ISO_DONE;
		}
	}
}

/* ---- values ---- */

static uint64
put_value(const PlrustValue *v, uint64 off, int depth)
{
	PlrustIsoCell cell = {.is_null = v->is_null,.shape = v->shape};
	uint64		next = off + sizeof(cell);
	Size		i;

	if (depth > PLRUST_ISO_MAX_DEPTH)
		elog(ERROR, "value nests too deep for an isolated call");
	if (next > PLRUST_ISO_REGION_SIZE)
		goto too_large;
	if (!v->is_null && v->shape == PLRUST_SHAPE_BYTES)
	{
		cell.a = v->v.bytes.len;
		if (plrust_iso_pad8(cell.a) > PLRUST_ISO_REGION_SIZE - next)
			goto too_large;
		if (cell.a > 0)
			memcpy(runner.region + next, v->v.bytes.ptr, cell.a);
		next += plrust_iso_pad8(cell.a);
	}
	else if (!v->is_null && v->shape == PLRUST_SHAPE_ARRAY)
	{
		const PlrustValue *elems = v->v.array.ptr;

		cell.a = v->v.array.len;
		for (i = 0; i < cell.a; i++)
			next = put_value(&elems[i], next, depth + 1);
	}
	else if (!v->is_null)
		memcpy(&cell.a, &v->v, 8);
	memcpy(runner.region + off, &cell, sizeof(cell));
	return next;

too_large:
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("arguments too large for an isolated PL/Rust call"),
			 errdetail("The shared region holds at most %llu bytes.",
					   (unsigned long long) (PLRUST_ISO_REGION_SIZE - PLRUST_ISO_HEADER_SIZE))));
	return 0;
}

pg_noreturn static void
malformed(const PlrustDef *def, const char *what)
{
	stop_runner();
	leave_call();
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("PL/Rust function \"%s\" returned a malformed value from its isolated process", def->name),
			 errdetail("%s", what)));
}

/* The shape each type this handler knows is carried in; -1: any (a type it does not know). */
static int
expected_shape(PlrustScalar scalar)
{
	switch (scalar)
	{
		case PLRUST_BOOL:
		case PLRUST_INT2:
		case PLRUST_INT4:
		case PLRUST_INT8:
		case PLRUST_FLOAT4:
		case PLRUST_FLOAT8:
			return PLRUST_SHAPE_PLAIN;
		case PLRUST_TEXT:
		case PLRUST_VARCHAR:
		case PLRUST_BYTEA:
			return PLRUST_SHAPE_BYTES;
		default:
			return -1;
	}
}

/*
 * Rebuilds a value the runner wrote in [off, end) in cxt, checking every
 * length against the data. A plain value's slice length stays 0, so code
 * that reads it as a slice sees an empty one.
 */
static uint64
get_value(const PlrustDef *def, PlrustValue *v, uint64 off, uint64 end, int depth, MemoryContext cxt)
{
	PlrustIsoCell cell;
	uint64		next = off + sizeof(cell);
	uint64		i;

	if (depth > PLRUST_ISO_MAX_DEPTH)
		malformed(def, "The value nests too deep.");
	if (off > end || end - off < sizeof(cell))
		malformed(def, "The value is cut short.");
	memcpy(&cell, runner.region + off, sizeof(cell));
	memset(v, 0, sizeof(*v));
	if (cell.is_null > 1 || cell.shape > PLRUST_SHAPE_ARRAY)
		malformed(def, "A value has an unknown null flag or shape.");
	v->is_null = cell.is_null;
	v->shape = cell.shape;
	if (cell.is_null)
		return next;
	if (cell.shape == PLRUST_SHAPE_BYTES)
	{
		char	   *copy;

		if (cell.a > end - next || plrust_iso_pad8(cell.a) > end - next)
			malformed(def, "A byte string runs past the data.");
		copy = MemoryContextAllocHuge(cxt, cell.a + 1);
		memcpy(copy, runner.region + next, cell.a);
		v->v.bytes.ptr = cell.a > 0 ? copy : NULL;
		v->v.bytes.len = cell.a;
		return next + plrust_iso_pad8(cell.a);
	}
	if (cell.shape == PLRUST_SHAPE_ARRAY)
	{
		PlrustValue *elems;

		if (cell.a > (end - next) / sizeof(PlrustIsoCell))
			malformed(def, "An array has more elements than the data.");
		elems = MemoryContextAllocHuge(cxt, sizeof(PlrustValue) * Max(cell.a, 1));
		for (i = 0; i < cell.a; i++)
			next = get_value(def, &elems[i], next, end, depth + 1, cxt);
		v->v.array.ptr = cell.a > 0 ? elems : NULL;
		v->v.array.len = cell.a;
		return next;
	}
	memcpy(&v->v, &cell.a, 8);
	return next;
}

static void
check_shape(const PlrustDef *def, const PlrustValue *v)
{
	const PlrustType *t = &def->ret_type;
	int			want = t->is_array ? PLRUST_SHAPE_ARRAY : expected_shape(t->scalar);
	int			elem = expected_shape(t->scalar);
	Size		i;

	if (v->is_null || want < 0)
		return;
	if (v->shape != want)
		malformed(def, "The result's shape does not match its type.");
	if (t->is_array && elem >= 0)
		for (i = 0; i < v->v.array.len; i++)
		{
			const PlrustValue *e = &((const PlrustValue *) v->v.array.ptr)[i];

			if (!e->is_null && e->shape != elem)
				malformed(def, "An element's shape does not match its type.");
		}
}

/* A length-prefixed byte string of the runner's, copied into cxt; *off moves past it. */
static PlrustSlice
get_bytes(const PlrustDef *def, uint64 *off, uint64 end, MemoryContext cxt)
{
	PlrustSlice s = {NULL, 0};
	uint64		len;
	char	   *copy;

	if (*off > end || end - *off < 8)
		return s;
	memcpy(&len, runner.region + *off, 8);
	*off += 8;
	if (len > end - *off)
		malformed(def, "A message runs past the data.");
	copy = MemoryContextAllocHuge(cxt, len + 1);
	memcpy(copy, runner.region + *off, len);
	copy[len] = '\0';
	*off += plrust_iso_pad8(len);
	s.ptr = copy;
	s.len = len;
	return s;
}

/* ---- commands ---- */

/*
 * What function code may make the backend copy: no more than it could hold
 * itself (plrust.memory_limit; decoding grows it by half at most), so a
 * runner that lies cannot make the backend allocate more than in-process.
 */
static uint64
copy_limit(void)
{
	return plrust_memory_limit_kb > 0 ? (uint64) plrust_memory_limit_kb * 1024 + 65536 : PLRUST_ISO_REGION_SIZE;
}

static uint64
data_end(const PlrustDef *def, uint64 base)
{
	uint64		len = runner.hdr->out_len;

	if (len > PLRUST_ISO_REGION_SIZE - base)
		malformed(def, "The reply is longer than the shared region.");
	if (len > copy_limit())
		malformed(def, "The reply is larger than plrust.memory_limit allows.");
	return base + len;
}

/* Forwards one host request byte for byte; requests that run PL/Rust functions nest above it. */
static void
forward_request(PlrustFunction *fn)
{
	uint64		off = runner.hdr->req_off;
	uint64		len = runner.hdr->req_len;
	uint64		saved_top = runner.top;
	PlrustSlice reply = {NULL, 0};
	int32		status = 1;

	if (off < runner.top || off > PLRUST_ISO_REGION_SIZE || len > PLRUST_ISO_REGION_SIZE - off)
		malformed(fn->def, "A host request lies outside the shared region.");
	if (len > copy_limit())
		malformed(fn->def, "A host request is larger than plrust.memory_limit allows.");
	runner.top = plrust_iso_pad8(off + len);
	if (fn->host.request != NULL)
	{
		char	   *msg = palloc(len + 1);

		memcpy(msg, runner.region + off, len);
		status = fn->host.request(fn->host.ctx, (const uint8_t *) msg, len, &reply);
		pfree(msg);
	}
	runner.top = saved_top;
	if (reply.len > PLRUST_ISO_REGION_SIZE - off)
		reply.len = 0;
	if (reply.len > 0)
		memcpy(runner.region + off, reply.ptr, reply.len);
	if (reply.ptr != NULL)
		fn->host.dealloc(fn->host.ctx, (void *) reply.ptr, reply.len, 1);
	runner.hdr->req_len = reply.len;
	runner.hdr->req_status = status;
	plrust_iso_post(runner.hdr, PLRUST_ISO_REPLY, 1);
}

/* Posts the command set up in the header and waits for its end; false when canceled. */
static bool
run_command(PlrustFunction *fn)
{
	bool		canceled = false;
	uint64		cancel_at = 0;

	plrust_iso_post(runner.hdr, PLRUST_ISO_COMMAND, 1);
	while (await_runner(fn->def, &cancel_at, &canceled) == PLRUST_ISO_REQUEST)
		forward_request(fn);
	return !canceled;
}

static void
send_library(PlrustFunction *fn)
{
	char		control[CMSG_SPACE(sizeof(int))];
	uint32		id = fn->iso_lib;
	struct iovec iov = {.iov_base = &id,.iov_len = sizeof(id)};
	struct msghdr m = {.msg_iov = &iov,.msg_iovlen = 1,.msg_control = control,.msg_controllen = sizeof(control)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	memset(control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fn->iso_fd, sizeof(int));
	if (sendmsg(runner.sock, &m, MSG_NOSIGNAL) < 0)
		ereport(ERROR,
				(errmsg("could not hand a PL/Rust library to the isolated process: %m")));
}

/* The library is loaded in the current runner, starting the runner when there is none. */
static void
ensure_loaded(PlrustFunction *fn)
{
	uint64		base = runner.top;
	uint64		end;
	PlrustSlice sig;

	if (runner.pid == 0)
		start_runner();
	if (fn->iso_epoch == runner.epoch)
		return;
	send_library(fn);
	runner.hdr->op = PLRUST_ISO_OP_LOAD;
	runner.hdr->lib = fn->iso_lib;
	runner.hdr->base = base;
	if (!run_command(fn))
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling the load of PL/Rust function \"%s\"", fn->def->name)));
	end = data_end(fn->def, base);
	sig = get_bytes(fn->def, &base, end, CurrentMemoryContext);
	if (runner.hdr->status != PLRUST_OK)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("could not load the library of PL/Rust function \"%s\" in its isolated process",
						fn->def->name),
				 errdetail_internal("%s", plrust_message_text(sig.ptr, sig.len, 2000))));
	fn->iso_epoch = runner.epoch;
	plrust_check_library_signature(fn->def, sig.ptr != NULL ? sig.ptr : "");
}

/* A sealed copy of the checked bytes: what the runner maps is what was checked. */
static int
sealed_copy(const PlrustDef *def, const PlrustArtifact *a)
{
	int			fd = memfd_create("plrust", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	Size		done = 0;

	if (fd < 0)
		ereport(ERROR, (errmsg("could not create an in-memory file for a PL/Rust library: %m")));
	while (done < a->len)
	{
		ssize_t		n = write(fd, a->data + done, a->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			close(fd);
			ereport(ERROR, (errmsg("could not write a PL/Rust library to memory: %m")));
		}
		done += n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
	{
		close(fd);
		ereport(ERROR, (errmsg("could not seal the in-memory file of a PL/Rust library: %m")));
	}
	return fd;
}

PlrustFunction *
plrust_isolated_load(PlrustDef *def, const PlrustArtifact *artifact, MemoryContext fn_cxt)
{
	PlrustFunction *fn = MemoryContextAllocZero(fn_cxt, sizeof(PlrustFunction));

	fn->def = def;
	fn->isolated = true;
	fn->args = MemoryContextAllocZero(fn_cxt, sizeof(PlrustValue) * Max(def->nargs, 1));
	fn->arg_cxt = AllocSetContextCreate(fn_cxt, "PL/Rust arguments", ALLOCSET_DEFAULT_SIZES);
	plrust_host_init(fn, fn_cxt);
	fn->iso_fd = sealed_copy(def, artifact);
	fn->iso_lib = next_lib_id++;
	PG_TRY();
	{
		ensure_loaded(fn);
	}
	PG_CATCH();
	{
		close(fn->iso_fd);
		plrust_memory_forget(fn);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return fn;
}

void
plrust_isolated_unload(PlrustFunction *fn)
{
	if (runner.pid != 0 && fn->iso_epoch == runner.epoch &&
		__atomic_load_n(&runner.hdr->state, __ATOMIC_SEQ_CST) == PLRUST_ISO_DONE)
	{
		runner.hdr->op = PLRUST_ISO_OP_UNLOAD;
		runner.hdr->lib = fn->iso_lib;
		runner.hdr->base = runner.top;
		PG_TRY();
		{
			run_command(fn);
		}
		PG_CATCH();
		{
			FlushErrorState();
			stop_runner();
		}
		PG_END_TRY();
	}
	close(fn->iso_fd);
	fn->iso_fd = -1;
}

static int32
call_runner(PlrustFunction *fn, PlrustValue *result, PlrustError *error)
{
	const PlrustDef *def = fn->def;
	uint64		base;
	uint64		off;
	uint64		end;
	int32		status;
	int			i;

	ensure_loaded(fn);
	base = runner.top;
	off = base;
	for (i = 0; i < def->nargs; i++)
		off = put_value(&fn->args[i], off, 0);
	if (base == PLRUST_ISO_HEADER_SIZE)
		runner.hdr->interrupt = 0;
	runner.hdr->op = PLRUST_ISO_OP_CALL;
	runner.hdr->lib = fn->iso_lib;
	runner.hdr->nargs = def->nargs;
	runner.hdr->base = base;
	runner.hdr->stack_depth = (uint64) max_stack_depth * 1024;
	runner.hdr->memory_limit = (uint64) plrust_memory_limit_kb * 1024;
	runner.top = plrust_iso_pad8(off);

	if (!run_command(fn))
	{
		leave_call();
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling PL/Rust function call"),
				 errdetail("The function did not stop at a checkpoint, so its isolated process was ended.")));
	}
	status = runner.hdr->status;
	fn->hctx.limit_hit = runner.hdr->limit_hit != 0;
	fn->hctx.refused_size = runner.hdr->refused_size;
	end = data_end(def, base);
	off = base;
	if (status == PLRUST_OK)
	{
		get_value(def, result, base, end, 0, fn->arg_cxt);
		check_shape(def, result);
		return status;
	}
	error->message = get_bytes(def, &off, end, fn->arg_cxt);
	error->location = get_bytes(def, &off, end, fn->arg_cxt);
	if (status == PLRUST_ISO_FATAL)
	{
		int			st;

		while (waitpid(runner.pid, &st, 0) < 0 && errno == EINTR)
			;
		runner.pid = 0;
		stop_runner();
		leave_call();
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("function aborted: %s",
						plrust_message_text(error->message.ptr, error->message.len, 1024)),
				 errdetail("The Rust runtime cannot continue after this fault, so the function's isolated "
						   "process was ended; the next call starts a new one.")));
	}
	if (status == PLRUST_ISO_LOAD_FAILED)
	{
		leave_call();
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("PL/Rust function \"%s\" failed in its isolated process", def->name),
				 errdetail_internal("%s", plrust_message_text(error->message.ptr, error->message.len, 1024))));
	}
	return status;
}

/*
 * One call in the runner, with the in-process call's contract: the status,
 * *result or *error (allocated in the function's argument context, which
 * the handler resets). Whatever ends the call with an ERROR while the
 * runner is still busy ends the runner too: its state is unknown.
 */
int32
plrust_isolated_call(PlrustFunction *fn, PlrustValue *result, PlrustError *error)
{
	uint64		saved_top = runner.top;
	int32		status = PLRUST_OK;

	PG_TRY();
	{
		status = call_runner(fn, result, error);
	}
	PG_CATCH();
	{
		if (runner.pid != 0 && __atomic_load_n(&runner.hdr->state, __ATOMIC_SEQ_CST) != PLRUST_ISO_DONE)
			stop_runner();
		runner.top = saved_top;
		PG_RE_THROW();
	}
	PG_END_TRY();
	runner.top = saved_top;
	return status;
}

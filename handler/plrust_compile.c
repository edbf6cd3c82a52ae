/*
 * plrust_compile.c — runs `plrust compile` (docs/COMPILE.md) for the
 * validator and for a first call that finds no artifact.
 *
 * The command comes from plrust.compiler as absolute paths and runs with an
 * environment built here, never the server's PATH (which systemd empties).
 * The backend keeps serving cancel requests while it waits: the child runs
 * in its own process group, which is killed on cancel, on timeout and on
 * any error, so no compiler outlives the statement that started it.
 */
#include "plrust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/array.h"
#include "utils/json.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#define MAX_RESPONSE_SIZE ((Size) 16 * 1024 * 1024)
#define MAX_STDERR_KEPT ((Size) 64 * 1024)
#define POLL_SLICE_MS 100
#define SLOT_POLL_MS 50
/* A cache entry is this old before DROP may remove it: its compile's reader has long finished. */
#define CACHE_GRACE_SECONDS 10

typedef struct Child
{
	pid_t		pid;
	bool		reaped;
	int			status;
	int			in_fd;
	int			out_fd;
	int			err_fd;
	const char *request;
	Size		request_len;
	Size		written;
	StringInfoData out;
	StringInfoData err;
	bool		out_truncated;
} Child;

static char *
env_entry(const char *name, const char *value)
{
	return psprintf("%s=%s", name, value);
}

static char **
compiler_environment(void)
{
	char	  **env = palloc0(sizeof(char *) * 10);
	int			n = 0;
	const char *home = getenv("HOME");
	bool		have_work_dir = plrust_work_dir != NULL && plrust_work_dir[0] != '\0';

	/* rustc finds its linker (cc) through PATH; give it the system one. */
	env[n++] = env_entry("PATH", "/usr/local/bin:/usr/bin:/bin");
	env[n++] = env_entry("LC_ALL", "C.UTF-8");
	env[n++] = env_entry("NO_COLOR", "1");
	if (plrust_home != NULL && plrust_home[0] != '\0')
		env[n++] = env_entry("PLRUST_HOME", plrust_home);
	if (have_work_dir)
		env[n++] = env_entry("TMPDIR", plrust_work_dir);
	env[n++] = env_entry("HOME", have_work_dir ? plrust_work_dir : (home != NULL ? home : "/"));
	env[n] = NULL;
	return env;
}

static void
child_fail(const char *what)
{
	const char *reason = strerror(errno);

	/* only async-signal-safe calls between fork and exec */
	(void) !write(STDERR_FILENO, what, strlen(what));
	(void) !write(STDERR_FILENO, ": ", 2);
	(void) !write(STDERR_FILENO, reason, strlen(reason));
	(void) !write(STDERR_FILENO, "\n", 1);
	_exit(127);
}

static void
close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int) lowfd, ~0U, 0) == 0)
		return;
#endif
	for (int fd = lowfd; fd < 65536; fd++)
		(void) close(fd);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
start_child(Child *c, char **argv, char **envp, const char *cwd)
{
	int			in[2];
	int			out[2];
	int			err[2];
	sigset_t	all;
	sigset_t	saved;

	in[0] = in[1] = out[0] = out[1] = err[0] = err[1] = -1;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
	{
		int			saved_errno = errno;

		/* the pipes made before the one that failed */
		for (int i = 0; i < 2; i++)
		{
			close_fd(&in[i]);
			close_fd(&out[i]);
			close_fd(&err[i]);
		}
		errno = saved_errno;
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not create a pipe: %m")));
	}

	fflush(NULL);
	/* No backend signal handler may run in the child before exec. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &saved);
	c->pid = fork();
	if (c->pid == 0)
	{
		struct sigaction dfl;
		sigset_t	none;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (int sig = 1; sig < NSIG; sig++)
			(void) sigaction(sig, &dfl, NULL);
		(void) setpgid(0, 0);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
			dup2(err[1], STDERR_FILENO) < 0)
			_exit(127);
		close_from(3);
		if (chdir(cwd) != 0)
			child_fail("plrust compile: cannot enter the work directory");
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], argv, envp);
		child_fail(argv[0]);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (c->pid < 0)
	{
		int			saved_errno = errno;

		close(in[1]);
		close(out[0]);
		close(err[0]);
		errno = saved_errno;
		ereport(ERROR, (errmsg("could not start plrust compile: %m")));
	}
	(void) setpgid(c->pid, c->pid);
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = err[0];
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
}

/*
 * Kills the whole process group (node and the rustc it started), then
 * reaps the child. The group is signalled while the child is still a
 * zombie, so its id cannot have been reused yet.
 */
static void
stop_child(Child *c)
{
	close_fd(&c->in_fd);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	if (c->pid <= 0 || c->reaped)
		return;
	(void) kill(-c->pid, SIGKILL);
	(void) kill(c->pid, SIGKILL);
	while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
		;
	c->reaped = true;
}

static void
drain(Child *c, int *fd, StringInfo buf, Size keep)
{
	char		chunk[8192];

	for (;;)
	{
		ssize_t		n = read(*fd, chunk, sizeof(chunk));

		if (n > 0)
		{
			Size		room = keep > (Size) buf->len ? keep - buf->len : 0;

			if ((Size) n > room)
			{
				if (fd == &c->out_fd)
					c->out_truncated = true;
				n = room;
			}
			appendBinaryStringInfo(buf, chunk, n);
			continue;
		}
		if (n == 0)
			close_fd(fd);
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN && errno != EWOULDBLOCK)
			close_fd(fd);
		return;
	}
}

static void
feed(Child *c)
{
	while (c->written < c->request_len)
	{
		ssize_t		n = write(c->in_fd, c->request + c->written, c->request_len - c->written);

		if (n > 0)
			c->written += n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		else
			break;				/* the compiler stopped reading; its answer says why */
	}
	close_fd(&c->in_fd);
}

static void
timed_out(Child *c)
{
	stop_child(c);
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
			 errmsg("plrust compile did not finish within %d s", plrust_compile_timeout_s),
			 errhint("Raise plrust.compile_timeout.")));
}

/* Exchanges request and response; returns once the child has exited. */
static void
converse(Child *c)
{
	TimestampTz start = GetCurrentTimestamp();
	long		timeout_ms = (long) plrust_compile_timeout_s * 1000L;

	while (c->in_fd >= 0 || c->out_fd >= 0 || c->err_fd >= 0)
	{
		struct pollfd fds[3];
		int			n = 0;

		CHECK_FOR_INTERRUPTS();
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), timeout_ms))
			timed_out(c);
		if (c->in_fd >= 0)
			fds[n++] = (struct pollfd) {.fd = c->in_fd, .events = POLLOUT};
		if (c->out_fd >= 0)
			fds[n++] = (struct pollfd) {.fd = c->out_fd, .events = POLLIN};
		if (c->err_fd >= 0)
			fds[n++] = (struct pollfd) {.fd = c->err_fd, .events = POLLIN};
		if (poll(fds, n, POLL_SLICE_MS) < 0 && errno != EINTR)
			ereport(ERROR, (errmsg("could not wait for plrust compile: %m")));
		if (c->in_fd >= 0)
			feed(c);
		if (c->out_fd >= 0)
			drain(c, &c->out_fd, &c->out, MAX_RESPONSE_SIZE);
		if (c->err_fd >= 0)
			drain(c, &c->err_fd, &c->err, MAX_STDERR_KEPT);
	}

	for (;;)
	{
		siginfo_t	info;

		CHECK_FOR_INTERRUPTS();
		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, c->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == c->pid)
			break;
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), timeout_ms))
			timed_out(c);
		pg_usleep(10 * 1000L);
	}
	/* The child is a zombie: end whatever it left running, then reap it. */
	(void) kill(-c->pid, SIGKILL);
	while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
		;
	c->reaped = true;
}

/* ---- the compile's bounds (docs/TRUST.md) ---- */

static const char *
slot_directory(void)
{
	return plrust_work_dir != NULL && plrust_work_dir[0] != '\0' ? plrust_work_dir : DataDir;
}

/*
 * Takes one of plrust.max_concurrent_compiles slots: a lock file in the
 * work directory held with flock, so slots work without shared memory (the
 * library need not be preloaded) and die with the backend that held one.
 * Waiting honours cancel and statement_timeout.
 */
static int
acquire_compile_slot(void)
{
	bool		waited = false;

	for (;;)
	{
		for (int i = 0; i < plrust_max_concurrent_compiles; i++)
		{
			char		path[MAXPGPATH];
			int			fd;

			snprintf(path, sizeof(path), "%s/plrust_compile_slot.%d", slot_directory(), i);
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
			if (fd < 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not open compile slot file \"%s\": %m", path)));
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				return fd;
			close(fd);
		}
		if (!waited)
			ereport(DEBUG1,
					(errmsg_internal("waiting for one of %d PL/Rust compile slots",
									 plrust_max_concurrent_compiles)));
		waited = true;
		/* the wait shows in pg_stat_activity as an Extension wait event */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, SLOT_POLL_MS,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
append_path_list(StringInfo buf, const char *const *paths, int n)
{
	bool		first = true;

	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
	{
		char		dir[MAXPGPATH];

		if (paths[i] == NULL || paths[i][0] != '/')
			continue;
		strlcpy(dir, paths[i], sizeof(dir));
		if (!first)
			appendStringInfoChar(buf, ',');
		escape_json(buf, dir);
		first = false;
	}
	appendStringInfoChar(buf, ']');
}

/*
 * The request of docs/COMPILE.md plus what bounds the compile: the sandbox,
 * the limits, and the server's own paths, which the sandbox must never show.
 */
static char *
compile_request(const PlrustDef *def, List *arches)
{
	char	   *base = plrust_request_json(def, arches);
	Size		len = strlen(base);
	StringInfoData buf;
	char		config_dir[MAXPGPATH];
	const char *protect[2];

	Assert(len > 0 && base[len - 1] == '}');
	strlcpy(config_dir, ConfigFileName != NULL ? ConfigFileName : "", sizeof(config_dir));
	get_parent_directory(config_dir);
	protect[0] = DataDir;
	protect[1] = config_dir;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, base, len - 1);
	appendStringInfo(&buf,
					 ",\"sandbox\":%s,\"limits\":{\"memoryBytes\":" INT64_FORMAT
					 ",\"cpuSeconds\":%d,\"maxLibraryBytes\":" INT64_FORMAT
					 ",\"processes\":%d},\"workDirMaxBytes\":" INT64_FORMAT ",\"protect\":",
					 plrust_compile_sandbox ? "true" : "false",
					 (int64) plrust_compile_memory_limit_mb * 1024 * 1024,
					 plrust_compile_cpu_limit_s,
					 (int64) plrust_max_library_size_kb * 1024,
					 plrust_compile_process_limit,
					 (int64) plrust_work_dir_max_size_mb * 1024 * 1024);
	append_path_list(&buf, protect, lengthof(protect));
	if (plrust_allowed_dependencies != NULL && plrust_allowed_dependencies[0] != '\0')
	{
		appendStringInfoString(&buf, ",\"allowedDependencies\":");
		escape_json(&buf, plrust_allowed_dependencies);
	}
	if (plrust_dependency_source != NULL && plrust_dependency_source[0] != '\0')
	{
		appendStringInfoString(&buf, ",\"dependencySource\":");
		escape_json(&buf, plrust_dependency_source);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) remove(path);
	return 0;
}

static bool
hash_is_live(const char *hash, Datum *live, int nlive)
{
	for (int i = 0; i < nlive; i++)
	{
		text	   *t = DatumGetTextPP(live[i]);

		if (VARSIZE_ANY_EXHDR(t) == PLRUST_SHA256_HEX_LEN &&
			memcmp(VARDATA_ANY(t), hash, PLRUST_SHA256_HEX_LEN) == 0)
			return true;
	}
	return false;
}

/*
 * Removes the compiler's cache entries (plrust.work_dir/cache/<key>/, whose
 * `definition` file names the definition hash) that no function of this
 * database has any more. Entries of other databases' functions may go too:
 * an entry only saves a compile, the artifact table keeps the library.
 */
void
plrust_work_dir_forget(Datum *live, int nlive)
{
	char		cache[MAXPGPATH];
	DIR		   *dir;
	struct dirent *de;
	time_t		now = time(NULL);

	if (plrust_work_dir == NULL || plrust_work_dir[0] == '\0')
		return;
	snprintf(cache, sizeof(cache), "%s/cache", plrust_work_dir);
	dir = AllocateDir(cache);
	if (dir == NULL)
		return;
	while ((de = ReadDirExtended(dir, cache, LOG)) != NULL)
	{
		char		entry[MAXPGPATH];
		char		file[MAXPGPATH];
		char	   *hash;
		Size		len;
		struct stat st;

		if (strlen(de->d_name) != PLRUST_SHA256_HEX_LEN || !plrust_is_sha256_hex(de->d_name))
			continue;
		snprintf(entry, sizeof(entry), "%s/%s", cache, de->d_name);
		snprintf(file, sizeof(file), "%s/definition", entry);
		if (lstat(entry, &st) != 0 || !S_ISDIR(st.st_mode) || now - st.st_mtime < CACHE_GRACE_SECONDS)
			continue;
		hash = plrust_read_file(file, 256, &len);
		if (hash == NULL || len < PLRUST_SHA256_HEX_LEN)
			continue;
		hash[PLRUST_SHA256_HEX_LEN] = '\0';
		if (plrust_is_sha256_hex(hash) && !hash_is_live(hash, live, nlive))
			(void) nftw(entry, remove_one, 8, FTW_DEPTH | FTW_PHYS);
		pfree(hash);
	}
	FreeDir(dir);
}

/* ---- the response ---- */

static void
parse_error_context(void *arg)
{
	errcontext("while reading the response of plrust compile");
}

static Jsonb *
parse_response(const char *text, Size len)
{
	ErrorContextCallback cb = {.previous = error_context_stack,.callback = parse_error_context};
	char	   *server_text;
	Jsonb	   *doc;

	error_context_stack = &cb;
	server_text = plrust_from_utf8(text, len);
	doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(server_text)));
	error_context_stack = cb.previous;
	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("plrust compile answered with JSON that is not an object")));
	return doc;
}

static JsonbValue *
member(JsonbContainer *obj, const char *key)
{
	if (obj == NULL || !JsonContainerIsObject(obj))
		return NULL;
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

static char *
member_string(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = member(obj, key);

	return v != NULL && v->type == jbvString ? pnstrdup(v->val.string.val, v->val.string.len) : NULL;
}

static bool
member_int(JsonbContainer *obj, const char *key, int64 *out)
{
	JsonbValue *v = member(obj, key);

	if (v == NULL || v->type != jbvNumeric)
		return false;
	*out = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric)));
	return true;
}

static JsonbContainer *
member_container(JsonbContainer *obj, const char *key, bool want_array)
{
	JsonbValue *v = member(obj, key);

	if (v == NULL || v->type != jbvBinary)
		return NULL;
	if (want_array ? !JsonContainerIsArray(v->val.binary.data) : !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

static JsonbContainer *
element_object(JsonbContainer *array, int i)
{
	JsonbValue *v = getIthJsonbValueFromContainer(array, i);

	return v != NULL && v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data)
		? v->val.binary.data : NULL;
}

/* Compiler diagnostics, one per line, with positions in the user's body. */
static char *
diagnostics_text(JsonbContainer *root)
{
	JsonbContainer *list = member_container(root, "diagnostics", true);
	StringInfoData buf;
	int			i;

	if (list == NULL || JsonContainerSize(list) == 0)
		return NULL;
	initStringInfo(&buf);
	for (i = 0; i < (int) JsonContainerSize(list); i++)
	{
		JsonbContainer *d = element_object(list, i);
		char	   *rendered = member_string(d, "rendered");
		char	   *message = member_string(d, "message");
		int64		line = 0;
		int64		col = 0;

		if (d == NULL)
			continue;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '\n');
		if (rendered != NULL)
			appendStringInfoString(&buf, rendered);
		else
		{
			(void) member_int(d, "line", &line);
			(void) member_int(d, "col", &col);
			appendStringInfo(&buf, "line " INT64_FORMAT ":" INT64_FORMAT ": %s",
							 line, col, message != NULL ? message : "(no message)");
		}
	}
	return buf.data;
}

static void
report_rejection(const PlrustDef *def, JsonbContainer *root, int exit_code)
{
	JsonbContainer *error = member_container(root, "error", false);
	char	   *message = member_string(error, "message");
	char	   *hint = member_string(error, "hint");
	char	   *code = member_string(error, "code");
	char	   *details = diagnostics_text(root);

	int			sqlstate;

	/* Exit 1: the function was rejected, by a check or by a limit. Anything else is a fault of the setup. */
	if (code != NULL && strcmp(code, "COMPILE_LIMIT") == 0)
		sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	else if (code != NULL && strncmp(code, "SANDBOX_", 8) == 0)
		sqlstate = ERRCODE_SYSTEM_ERROR;
	else
		sqlstate = exit_code == 1 ? ERRCODE_INVALID_FUNCTION_DEFINITION
			: ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION;
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s", message != NULL ? message : "plrust compile failed"),
			 details != NULL ? errdetail_internal("%s", details) : 0,
			 hint != NULL ? errhint("%s", hint) : 0,
			 errcontext("compiling PL/Rust function \"%s\"%s%s%s", def->name,
						code != NULL ? " (" : "", code != NULL ? code : "", code != NULL ? ")" : "")));
}

static void
bad_response(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
			 errmsg("plrust compile gave an unusable response: %s", what),
			 errhint("The handler and the plrust CLI may be from different releases; reinstall with plrust install.")));
}

static PlrustArtifact *
read_artifact(JsonbContainer *entry)
{
	PlrustArtifact *a = palloc0(sizeof(PlrustArtifact));
	char	   *arch = member_string(entry, "arch");
	char	   *path = member_string(entry, "path");
	char	   *sha = member_string(entry, "sha256");
	int64		size;
	char		actual[PLRUST_SHA256_HEX_LEN + 1];

	if (arch == NULL || path == NULL || sha == NULL || !member_int(entry, "size", &size))
		bad_response("an artifact lacks arch, path, sha256 or size");
	if (path[0] != '/' || !plrust_is_sha256_hex(sha) || strlen(arch) >= sizeof(a->arch))
		bad_response("an artifact has an invalid path, sha256 or arch");

	/*
	 * Only the bytes read here are stored and later loaded, and they are the
	 * bytes whose checksum the compiler reported: whatever happens to the
	 * file afterwards cannot change what runs.
	 */
	if (size > (int64) plrust_max_library_size_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("compiled library of %s is larger than plrust.max_library_size (%d kB)",
						arch, plrust_max_library_size_kb),
				 errhint("A superuser can raise plrust.max_library_size.")));
	a->data = plrust_read_file(path, (Size) plrust_max_library_size_kb * 1024, &a->len);
	if (a->data == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read compiled artifact \"%s\": %m", path),
				 errhint("The database server's OS user must be able to read the plrust cache.")));
	plrust_sha256_hex(a->data, a->len, actual);
	if (strcmp(actual, sha) != 0 || (int64) a->len != size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("compiled artifact \"%s\" does not match the checksum plrust compile reported", path)));
	strlcpy(a->arch, arch, sizeof(a->arch));
	strlcpy(a->sha256, actual, sizeof(a->sha256));
	a->abi_version = PLRUST_ABI_VERSION;
	return a;
}

static List *
accept_response(const PlrustDef *def, JsonbContainer *root, List *arches)
{
	JsonbContainer *list = member_container(root, "artifacts", true);
	char	   *hash = member_string(root, "definitionHash");
	char	   *toolchain = member_string(root, "toolchain");
	int64		abi;
	List	   *result = NIL;
	List	   *seen = NIL;
	ListCell   *lc;
	int			i;

	if (list == NULL || hash == NULL || toolchain == NULL || !member_int(root, "abiVersion", &abi))
		bad_response("definitionHash, toolchain, abiVersion or artifacts is missing");
	if (strcmp(hash, def->hash) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("plrust compile computed definition hash %s, the handler %s", hash, def->hash),
				 errhint("The handler and the plrust CLI are from different releases; reinstall with plrust install.")));
	if (abi != PLRUST_ABI_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("plrust compile built for ABI version " INT64_FORMAT ", the handler speaks version %d",
						abi, PLRUST_ABI_VERSION),
				 errhint("Reinstall the handler with plrust install.")));

	for (i = 0; i < (int) JsonContainerSize(list); i++)
	{
		JsonbContainer *entry = element_object(list, i);
		char	   *arch = member_string(entry, "arch");
		PlrustArtifact *a;

		if (entry == NULL)
			bad_response("an artifact is not an object");
		if (arch == NULL || !plrust_list_has_string(arches, arch) || plrust_list_has_string(seen, arch))
			continue;
		a = read_artifact(entry);
		a->toolchain = toolchain;
		seen = lappend(seen, a->arch);
		result = lappend(result, a);
	}
	foreach(lc, arches)
		if (!plrust_list_has_string(seen, lfirst(lc)))
			bad_response(psprintf("no artifact for %s", (char *) lfirst(lc)));
	return result;
}

static char *
exit_description(int status)
{
	if (WIFEXITED(status))
		return psprintf("exit status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return psprintf("killed by signal %d", WTERMSIG(status));
	return psprintf("status %d", status);
}

List *
plrust_compile(const PlrustDef *def, List *arches)
{
	List	   *words = plrust_compiler_argv();
	char	  **argv;
	char	  **envp = compiler_environment();
	const char *cwd = "/";
	Child		child;
	ListCell   *lc;
	int			n = 0;
	Jsonb	   *doc = NULL;
	int			exit_code;
	int			slot;

	if (words == NIL)
		elog(ERROR, "plrust.compiler is not set");
	argv = palloc0(sizeof(char *) * (list_length(words) + 4));
	foreach(lc, words)
		argv[n++] = lfirst(lc);
	argv[n++] = "compile";

	/* The server's OS user may not write PLRUST_HOME: cache and scratch go here. */
	if (plrust_work_dir != NULL && plrust_work_dir[0] != '\0')
	{
		char	   *dir = pstrdup(plrust_work_dir);

		if (pg_mkdir_p(dir, S_IRWXU) != 0 && errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create plrust.work_dir \"%s\": %m", plrust_work_dir)));
		argv[n++] = "--work-dir";
		argv[n++] = plrust_work_dir;
		cwd = plrust_work_dir;
	}

	memset(&child, 0, sizeof(child));
	child.in_fd = child.out_fd = child.err_fd = -1;
	child.request = compile_request(def, arches);
	child.request_len = strlen(child.request);
	initStringInfo(&child.out);
	initStringInfo(&child.err);

	if (!plrust_compile_sandbox)
		ereport(WARNING,
				(errmsg("compiling PL/Rust function \"%s\" without the compiler sandbox", def->name),
				 errdetail("plrust.compile_sandbox is off: the compiler can read every file the server's operating system user can."),
				 errhint("Install bubblewrap and set plrust.compile_sandbox to on.")));

	slot = acquire_compile_slot();
	PG_TRY();
	{
		start_child(&child, argv, envp, cwd);
		converse(&child);
	}
	PG_CATCH();
	{
		stop_child(&child);
		close(slot);
		PG_RE_THROW();
	}
	PG_END_TRY();
	close(slot);

	exit_code = WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1;
	if (child.out_truncated)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("plrust compile answered with more than %zu bytes", MAX_RESPONSE_SIZE)));
	if (child.out.len > 0 && (exit_code == 0 || exit_code == 1 || exit_code == 2))
		doc = parse_response(child.out.data, child.out.len);
	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("plrust compile failed (%s)", exit_description(child.status)),
				 child.err.len > 0 ? errdetail_internal("%s", plrust_message_text(child.err.data, child.err.len, 4000)) : 0,
				 errhint("Check plrust.compiler (now \"%s\") and plrust.home.", plrust_compiler)));

	{
		JsonbValue *ok = member(&doc->root, "ok");

		if (ok == NULL || ok->type != jbvBool)
			bad_response("\"ok\" is missing");
		if (!ok->val.boolean || exit_code != 0)
			report_rejection(def, &doc->root, exit_code);
	}
	return accept_response(def, &doc->root, arches);
}

/* ---- plrust.allowed_dependencies() ---- */

#if PG_VERSION_NUM < 150000
/*
 * InitMaterializedSRF arrived in PostgreSQL 15; before it, a function that
 * returns its rows in a tuplestore sets the materialize mode up itself.
 */
static void
init_materialized_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(old);
}
#define InitMaterializedSRF(fcinfo, flags) init_materialized_srf(fcinfo)
#endif

/*
 * The allow-list as `plrust deps list` reads it: the compiler is the one
 * reader of the file, so SQL shows exactly what CREATE FUNCTION will accept,
 * with the version the dependency source offers for each entry (NULL when
 * it has none).
 */
PG_FUNCTION_INFO_V1(plrust_list_allowed_dependencies);

Datum
plrust_list_allowed_dependencies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *words;
	char	  **argv;
	Child		child;
	ListCell   *lc;
	int			n = 0;
	int			exit_code;
	Jsonb	   *doc = NULL;
	JsonbContainer *list;

	InitMaterializedSRF(fcinfo, 0);
	if (plrust_allowed_dependencies == NULL || plrust_allowed_dependencies[0] == '\0')
		return (Datum) 0;
	words = plrust_compiler_argv();
	if (words == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot read plrust.allowed_dependencies without plrust.compiler"),
				 errhint("Set plrust.compiler, or run plrust deps list --allowed \"%s\".",
						 plrust_allowed_dependencies)));

	argv = palloc0(sizeof(char *) * (list_length(words) + 9));
	foreach(lc, words)
		argv[n++] = lfirst(lc);
	argv[n++] = "deps";
	argv[n++] = "list";
	argv[n++] = "--json";
	argv[n++] = "--allowed";
	argv[n++] = plrust_allowed_dependencies;
	if (plrust_dependency_source != NULL && plrust_dependency_source[0] != '\0')
	{
		argv[n++] = "--dependency-source";
		argv[n++] = plrust_dependency_source;
	}

	memset(&child, 0, sizeof(child));
	child.in_fd = child.out_fd = child.err_fd = -1;
	child.request = "";
	initStringInfo(&child.out);
	initStringInfo(&child.err);
	PG_TRY();
	{
		start_child(&child, argv, compiler_environment(), "/");
		converse(&child);
	}
	PG_CATCH();
	{
		stop_child(&child);
		PG_RE_THROW();
	}
	PG_END_TRY();

	exit_code = WIFEXITED(child.status) ? WEXITSTATUS(child.status) : -1;
	if (exit_code == 0 && child.out.len > 0 && !child.out_truncated)
		doc = parse_response(child.out.data, child.out.len);
	list = doc != NULL ? member_container(&doc->root, "dependencies", true) : NULL;
	if (list == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not read the dependency allow-list \"%s\"", plrust_allowed_dependencies),
				 errdetail_internal("%s", child.err.len > 0 ? plrust_message_text(child.err.data, child.err.len, 4000)
									: plrust_message_text(child.out.data, child.out.len, 4000))));

	for (int i = 0; i < (int) JsonContainerSize(list); i++)
	{
		JsonbContainer *entry = element_object(list, i);
		JsonbContainer *features = member_container(entry, "features", true);
		JsonbValue *defaults = member(entry, "defaultFeatures");
		char	   *name = member_string(entry, "name");
		char	   *version = member_string(entry, "version");
		char	   *available = member_string(entry, "resolved");
		int			nfeatures = features != NULL ? (int) JsonContainerSize(features) : 0;
		Datum	   *fdatums = palloc0(sizeof(Datum) * (nfeatures + 1));
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, available == NULL};

		if (name == NULL || version == NULL || features == NULL || defaults == NULL || defaults->type != jbvBool)
			bad_response("an allow-list entry lacks name, version, features or defaultFeatures");
		for (int f = 0; f < nfeatures; f++)
		{
			JsonbValue *fv = getIthJsonbValueFromContainer(features, f);

			if (fv == NULL || fv->type != jbvString)
				bad_response("a feature is not a string");
			fdatums[f] = PointerGetDatum(cstring_to_text_with_len(fv->val.string.val, fv->val.string.len));
		}
		values[0] = CStringGetTextDatum(name);
		values[1] = CStringGetTextDatum(version);
		values[2] = PointerGetDatum(construct_array(fdatums, nfeatures, TEXTOID, -1, false, TYPALIGN_INT));
		values[3] = BoolGetDatum(defaults->val.boolean);
		values[4] = available != NULL ? CStringGetTextDatum(available) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

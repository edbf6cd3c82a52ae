/*
 * plrust_guc.c — settings, with defaults read from the file `plrust install`
 * writes beside the extension, so that no postgresql.conf edit is needed.
 *
 * Every setting is PGC_SUSET. The compiler command, the toolchain home and
 * the work directory decide which program the server runs and which std the
 * functions link against: letting a user point them elsewhere would hand
 * them the server's OS account. The memory limit and the compile timeout
 * protect the server from its users, so users must not raise them; an admin
 * can still give a role or database its own value with ALTER ROLE/DATABASE
 * ... SET. Lowering one's own limit is not worth a hook that has to tell
 * "lowering" from "raising" across every GUC source.
 */
#include "plrust.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

char	   *plrust_home = NULL;
char	   *plrust_compiler = NULL;
char	   *plrust_work_dir = NULL;
char	   *plrust_targets = NULL;
int			plrust_memory_limit_kb = 128 * 1024;
int			plrust_compile_timeout_s = 120;
bool		plrust_compile_sandbox = true;
int			plrust_compile_memory_limit_mb = 1024;
int			plrust_compile_cpu_limit_s = 60;
int			plrust_max_library_size_kb = 16 * 1024;
int			plrust_compile_process_limit = 64;
int			plrust_max_concurrent_compiles = 1;
int			plrust_work_dir_max_size_mb = 1024;
char	   *plrust_allowed_dependencies = NULL;
char	   *plrust_dependency_source = NULL;

#define DEFAULTS_FILE_NAME "plrust.defaults"
#define MAX_COMPILER_WORDS 16

typedef struct Defaults
{
	const char *home;
	const char *compiler;
	const char *work_dir;
	const char *targets;
	int			memory_limit_kb;
	int			compile_timeout_s;
} Defaults;

static bool
absolute_or_empty(const char *value)
{
	return value == NULL || value[0] == '\0' || value[0] == '/';
}

static bool
check_path(char **newval, void **extra, GucSource source)
{
	if (absolute_or_empty(*newval))
		return true;
	GUC_check_errdetail("The path must be absolute.");
	return false;
}

/*
 * A directory, or a registry mirror's sparse index URL: the compiler checks
 * the URL's form again; here only its scheme, so that a typo is refused at
 * SET rather than at the next CREATE FUNCTION.
 */
static bool
check_dependency_source(char **newval, void **extra, GucSource source)
{
	if (absolute_or_empty(*newval) ||
		strncmp(*newval, "sparse+http://", strlen("sparse+http://")) == 0 ||
		strncmp(*newval, "sparse+https://", strlen("sparse+https://")) == 0)
		return true;
	GUC_check_errdetail("The source must be an absolute directory or a sparse+https:// index URL.");
	return false;
}

/* Returns NULL or why the value is not a valid compiler command. */
static const char *
compiler_problem(const char *value)
{
	char	   *copy;
	List	   *words;
	ListCell   *lc;

	if (value == NULL || value[0] == '\0')
		return NULL;
	copy = pstrdup(value);
	if (!SplitGUCList(copy, ',', &words))
		return "The command must be a comma-separated list of absolute paths.";
	if (list_length(words) > MAX_COMPILER_WORDS)
		return "The command has too many elements.";
	foreach(lc, words)
	{
		const char *word = lfirst(lc);

		if (word[0] != '/')
			return "Each element of the command must be an absolute path, "
				"such as '/usr/bin/node, /opt/plrust/bin/plrust.js': "
				"the server's PATH is not searched.";
	}
	return NULL;
}

static bool
check_compiler(char **newval, void **extra, GucSource source)
{
	const char *problem = compiler_problem(*newval);

	if (problem == NULL)
		return true;
	GUC_check_errdetail("%s", problem);
	return false;
}

static const char *
targets_problem(const char *value)
{
	char	   *copy = pstrdup(value == NULL ? "" : value);
	List	   *words;
	List	   *seen = NIL;
	ListCell   *lc;

	if (!SplitGUCList(copy, ',', &words) || words == NIL)
		return "The targets must be a comma-separated list of x86_64 and aarch64.";
	foreach(lc, words)
	{
		const char *word = lfirst(lc);

		if (strcmp(word, "x86_64") != 0 && strcmp(word, "aarch64") != 0)
			return "Only x86_64 and aarch64 are supported targets.";
		if (plrust_list_has_string(seen, word))
			return "Each target may be listed once.";
		seen = lappend(seen, (void *) word);
	}
	return NULL;
}

static bool
check_targets(char **newval, void **extra, GucSource source)
{
	const char *problem = targets_problem(*newval);

	if (problem == NULL)
		return true;
	GUC_check_errdetail("%s", problem);
	return false;
}

static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool
parse_int_setting(const char *key, const char *value, int flags, const char *unit, int min, int max, int *out)
{
	int			parsed;
	const char *hint = NULL;

	if (!parse_int(value, &parsed, flags, &hint) || parsed < min || parsed > max)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ignoring invalid value \"%s\" for %s in the PL/Rust defaults file", value, key),
				 errdetail("The value must lie between %d %s and %d %s.", min, unit, max, unit),
				 hint != NULL ? errhint("%s", hint) : 0));
		return false;
	}
	*out = parsed;
	return true;
}

static void
set_string_default(const char *key, const char *value, const char *problem, const char **slot)
{
	if (problem != NULL)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ignoring invalid value \"%s\" for %s in the PL/Rust defaults file", value, key),
				 errdetail("%s", problem)));
		return;
	}
	*slot = MemoryContextStrdup(TopMemoryContext, value);
}

/*
 * Reads `key = value` lines (the GUC names, as in postgresql.conf; a value
 * may be wrapped in single quotes). A missing file means built-in defaults.
 */
static void
read_defaults(Defaults *d)
{
	char		sharedir[MAXPGPATH];
	char		path[MAXPGPATH];
	char	   *text;
	char	   *line;
	char	   *next;
	Size		len;

	get_share_path(my_exec_path, sharedir);
	snprintf(path, sizeof(path), "%s/extension/%s", sharedir, DEFAULTS_FILE_NAME);
	text = plrust_read_file(path, 64 * 1024, &len);
	if (text == NULL)
	{
		if (errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not read the PL/Rust defaults file \"%s\": %m", path),
					 errdetail("The built-in defaults apply.")));
		return;
	}

	for (line = text; line != NULL; line = next)
	{
		char	   *eq;
		char	   *key;
		char	   *value;
		Size		vlen;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
		{
			ereport(WARNING,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("ignoring line \"%s\" in the PL/Rust defaults file \"%s\"", line, path),
					 errdetail("Each line must have the form name = value.")));
			continue;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		vlen = strlen(value);
		if (vlen >= 2 && value[0] == '\'' && value[vlen - 1] == '\'')
		{
			char	   *from;
			char	   *to;

			/* postgresql.conf quoting: '' inside stands for ' */
			value[vlen - 1] = '\0';
			value++;
			for (from = to = value; *from != '\0'; from++)
			{
				*to++ = *from;
				if (from[0] == '\'' && from[1] == '\'')
					from++;
			}
			*to = '\0';
		}

		if (strcmp(key, "plrust.home") == 0)
			set_string_default(key, value, absolute_or_empty(value) ? NULL : "The path must be absolute.", &d->home);
		else if (strcmp(key, "plrust.compiler") == 0)
			set_string_default(key, value, compiler_problem(value), &d->compiler);
		else if (strcmp(key, "plrust.work_dir") == 0)
			set_string_default(key, value, absolute_or_empty(value) ? NULL : "The path must be absolute.", &d->work_dir);
		else if (strcmp(key, "plrust.targets") == 0)
			set_string_default(key, value, targets_problem(value), &d->targets);
		else if (strcmp(key, "plrust.memory_limit") == 0)
			parse_int_setting(key, value, GUC_UNIT_KB, "kB", 0, INT_MAX, &d->memory_limit_kb);
		else if (strcmp(key, "plrust.compile_timeout") == 0)
			parse_int_setting(key, value, GUC_UNIT_S, "s", 1, 86400, &d->compile_timeout_s);
		else
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("ignoring unknown setting \"%s\" in the PL/Rust defaults file \"%s\"", key, path)));
	}
	pfree(text);
}

void
plrust_define_gucs(void)
{
	Defaults	d = {
		.home = "",
		.compiler = "",
		.work_dir = "",
		.targets = "x86_64,aarch64",
		.memory_limit_kb = 128 * 1024,
		.compile_timeout_s = 120,
	};

	long		online = sysconf(_SC_NPROCESSORS_ONLN);
	int			cores = online < 1 ? 1 : (int) Min(online, 1024);

	read_defaults(&d);

	DefineCustomStringVariable("plrust.home",
							   "Toolchain home of plrust (PLRUST_HOME of the compiler).",
							   NULL, &plrust_home, d.home,
							   PGC_SUSET, 0, check_path, NULL, NULL);
	DefineCustomStringVariable("plrust.compiler",
							   "Command that runs `plrust compile`: absolute paths, comma-separated "
							   "(the node binary and the plrust CLI, or one executable).",
							   "Empty means functions are never compiled by the server: only "
							   "stored and prebuilt artifacts run.",
							   &plrust_compiler, d.compiler,
							   PGC_SUSET, GUC_LIST_INPUT, check_compiler, NULL, NULL);
	DefineCustomStringVariable("plrust.work_dir",
							   "Working directory of the compiler (also its TMPDIR).",
							   NULL, &plrust_work_dir, d.work_dir,
							   PGC_SUSET, 0, check_path, NULL, NULL);
	DefineCustomStringVariable("plrust.targets",
							   "Architectures every function is compiled for.",
							   "The running architecture is always included.",
							   &plrust_targets, d.targets,
							   PGC_SUSET, GUC_LIST_INPUT, check_targets, NULL, NULL);
	DefineCustomIntVariable("plrust.memory_limit",
							"Memory the PL/Rust functions of a session may hold together; 0 means no limit.",
							NULL, &plrust_memory_limit_kb, d.memory_limit_kb, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.compile_timeout",
							"Time one run of the compiler may take.",
							NULL, &plrust_compile_timeout_s, d.compile_timeout_s, 1, 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);

	/*
	 * The compiler's box and limits (docs/TRUST.md). Like the settings above
	 * they bound what a user's source can make the server do, so only a
	 * superuser may change them.
	 */
	DefineCustomBoolVariable("plrust.compile_sandbox",
							 "Runs the compiler in its sandbox (bubblewrap).",
							 "Turn off only on hosts that cannot have one: the compiler can then read "
							 "every file the server's OS user can, and every compile logs a warning.",
							 &plrust_compile_sandbox, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.compile_memory_limit",
							"Address space each compiler process may use.",
							NULL, &plrust_compile_memory_limit_mb, 1024, 64, INT_MAX / 1024,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.compile_cpu_limit",
							"CPU time each compiler process may use.",
							"plrust.compile_timeout bounds the wall-clock time of the whole compile.",
							&plrust_compile_cpu_limit_s, 60, 1, 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.max_library_size",
							"Largest function library (and largest file) the compiler may write.",
							NULL, &plrust_max_library_size_kb, 16 * 1024, 64, (int) (PLRUST_MAX_LIBRARY_SIZE / 1024),
							PGC_SUSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.compile_process_limit",
							"Processes and threads one compile may run in its sandbox.",
							NULL, &plrust_compile_process_limit, 64, 1, 4096,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.max_concurrent_compiles",
							"Compiles the server runs at once; more wait for a free slot.",
							"The default is the number of CPU cores.",
							&plrust_max_concurrent_compiles, cores, 1, 1024,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("plrust.work_dir_max_size",
							"Size the compiler's cache in plrust.work_dir is kept under.",
							NULL, &plrust_work_dir_max_size_mb, 1024, 1, INT_MAX / 1024,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);


	/*
	 * Crates a function may depend on, and where they come from
	 * (docs/DEPENDENCIES.md). The administrator trusts those crates on the
	 * users' behalf, so only a superuser names them.
	 */
	DefineCustomStringVariable("plrust.allowed_dependencies",
							   "TOML file of the crates, versions and features functions may depend on.",
							   "Empty means a function with [dependencies] is refused.",
							   &plrust_allowed_dependencies, "",
							   PGC_SUSET, 0, check_path, NULL, NULL);
	DefineCustomStringVariable("plrust.dependency_source",
							   "Directory registry, vendor directory or registry mirror (sparse+https:// index URL) the allowed crates are built from.",
							   "Empty means /usr/share/cargo/registry, where Debian's librust-*-dev packages install crates.",
							   &plrust_dependency_source, "",
							   PGC_SUSET, 0, check_dependency_source, NULL, NULL);

	plrust_isolation_define_guc();

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("plrust");
#else
	EmitWarningsOnPlaceholders("plrust");
#endif
}

bool
plrust_compiler_configured(void)
{
	return plrust_compiler != NULL && plrust_compiler[0] != '\0';
}

List *
plrust_compiler_argv(void)
{
	char	   *copy;
	List	   *words = NIL;

	if (!plrust_compiler_configured())
		return NIL;
	copy = pstrdup(plrust_compiler);
	if (!SplitGUCList(copy, ',', &words))
		elog(ERROR, "invalid plrust.compiler");	/* the check hook prevents it */
	return words;
}

List *
plrust_target_arches(void)
{
	char	   *copy = pstrdup(plrust_targets);
	List	   *words = NIL;

	if (!SplitGUCList(copy, ',', &words))
		elog(ERROR, "invalid plrust.targets");	/* the check hook prevents it */
	if (plrust_list_has_string(words, PLRUST_HOST_ARCH))
		return words;
	return lcons(pstrdup(PLRUST_HOST_ARCH), words);
}

/*
 * plrust.h — declarations shared by the files of the PL/Rust language handler.
 *
 * The handler is deliberately thin: it reads definitions from the catalog,
 * asks `plrust compile` for libraries, keeps them in a table, and loads and
 * calls them through the ABI of plrust_abi.h (docs/ABI.md). It never
 * generates Rust or runs rustc itself.
 */
#ifndef PLRUST_H
#define PLRUST_H

#include "postgres.h"

#include <signal.h>

#include "access/htup.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/*
 * plrust_host_fatal is resolved by the dynamic linker from every function
 * library, so it must stay visible even where PGXS compiles modules with
 * -fvisibility=hidden (PostgreSQL 16 and later).
 */
#pragma GCC visibility push(default)
#include "plrust_abi.h"
#pragma GCC visibility pop

#if defined(__x86_64__)
#define PLRUST_HOST_ARCH "x86_64"
#elif defined(__aarch64__)
#define PLRUST_HOST_ARCH "aarch64"
#else
#error "PL/Rust runs on x86_64 and aarch64 only"
#endif

/*
 * PostgreSQL 18 replaced the suffix pg_attribute_noreturn() with the prefix
 * pg_noreturn; GCC and Clang accept the attribute in front as well.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * PostgreSQL 16 gave stringToQualifiedNameList a soft-error context; NULL
 * keeps the old behaviour of raising the error.
 */
#if PG_VERSION_NUM >= 160000
#define plrust_qualified_name_list(s) stringToQualifiedNameList((s), NULL)
#else
#define plrust_qualified_name_list(s) stringToQualifiedNameList(s)
#endif

/* Upper bound for one function library; generous, but keeps reads bounded. */
#define PLRUST_MAX_LIBRARY_SIZE ((Size) 256 * 1024 * 1024)

#define PLRUST_SHA256_HEX_LEN 64

/* ---- settings (plrust_guc.c) ---- */

extern char *plrust_home;
extern char *plrust_compiler;
extern char *plrust_work_dir;
extern char *plrust_targets;
extern int	plrust_memory_limit_kb;
extern int	plrust_compile_timeout_s;
extern bool plrust_compile_sandbox;
extern int	plrust_compile_memory_limit_mb;
extern int	plrust_compile_cpu_limit_s;
extern int	plrust_max_library_size_kb;
extern int	plrust_compile_process_limit;
extern int	plrust_max_concurrent_compiles;
extern int	plrust_work_dir_max_size_mb;
extern char *plrust_allowed_dependencies;
extern char *plrust_dependency_source;

extern void plrust_define_gucs(void);
extern bool plrust_compiler_configured(void);
/* The compiler command as absolute paths (argv prefix); NIL when unset. */
extern List *plrust_compiler_argv(void);
/* The configured target architectures, always including the running one. */
extern List *plrust_target_arches(void);

/* ---- function definitions (plrust_definition.c) ---- */

typedef enum PlrustScalar
{
	PLRUST_BOOL,
	PLRUST_INT2,
	PLRUST_INT4,
	PLRUST_INT8,
	PLRUST_FLOAT4,
	PLRUST_FLOAT8,
	PLRUST_TEXT,
	PLRUST_VARCHAR,
	PLRUST_BYTEA,
	PLRUST_VOID,
	/* plrust_types.c */
	PLRUST_CHAR,
	PLRUST_OID,
	PLRUST_DATE,
	PLRUST_TIME,
	PLRUST_TIMETZ,
	PLRUST_TIMESTAMP,
	PLRUST_TIMESTAMPTZ,
	PLRUST_INTERVAL,
	PLRUST_UUID,
	PLRUST_POINT,
	PLRUST_BOX,
	PLRUST_TID,
	PLRUST_CSTRING,
	PLRUST_NUMERIC,
	PLRUST_JSON,
	PLRUST_JSONB,
	PLRUST_INET,				/* as its text form */
	PLRUST_ENUM,				/* any enum, as its label (text) */
	PLRUST_INT4RANGE,			/* the ranges stay last and together */
	PLRUST_INT8RANGE,
	PLRUST_NUMRANGE,
	PLRUST_DATERANGE,
	PLRUST_TSRANGE,
	PLRUST_TSTZRANGE,
	PLRUST_COMPOSITE,			/* a named composite type, as a row (plrust_request.c) */
	PLRUST_ANYELEMENT,			/* polymorphic: the type each call resolves (plrust_request.c) */
	PLRUST_ANYARRAY
} PlrustScalar;

typedef struct PlrustType
{
	PlrustScalar scalar;		/* the type, or the element type of an array */
	bool		is_array;
	bool		is_domain;		/* type_oid is a domain over the type */
	Oid			type_oid;
	Oid			elem_oid;		/* arrays: element type */
	int16		elem_len;
	bool		elem_byval;
	char		elem_align;
} PlrustType;

typedef struct PlrustDef
{
	Oid			fn_oid;
	char	   *name;			/* proname, for messages */
	int			nargs;
	char	  **arg_names;		/* UTF-8 */
	PlrustType *arg_types;
	PlrustType	ret_type;		/* SETOF: the element type; TABLE: void */
	bool		retset;			/* RETURNS SETOF or RETURNS TABLE */
	bool		is_trigger;		/* RETURNS trigger */
	int			ncols;			/* RETURNS TABLE: its columns, else 0 */
	char	  **col_names;		/* UTF-8 */
	PlrustType *col_types;
	bool		strict;
	char		volatility;		/* provolatile: SPI is read-only unless 'v' */
	char	   *body;			/* prosrc as UTF-8 */
	char		hash[PLRUST_SHA256_HEX_LEN + 1];
} PlrustDef;

/* Why a pg_proc entry is not a function this handler can run. */
typedef struct PlrustProblem
{
	int			sqlerrcode;
	const char *message;		/* the primary message */
	const char *detail;			/* NULL, or a sentence */
} PlrustProblem;

/*
 * Fills *def from a pg_proc tuple, allocating in CurrentMemoryContext.
 * Returns NULL, or the problem (the caller decides whether that is an ERROR).
 */
extern const PlrustProblem *plrust_parse_definition(HeapTuple proc_tuple, PlrustDef *def);
extern pg_noreturn void plrust_report_problem(const PlrustProblem *problem);
extern PlrustDef *plrust_read_definition(Oid fn_oid);
extern const char *plrust_type_name(const PlrustType *type);
extern bool plrust_type_of(Oid type_oid, PlrustType *t);
extern char *plrust_signature_json(const PlrustDef *def);
extern char *plrust_request_json(const PlrustDef *def, List *arches);

/* ---- the session's TimeZone for timestamptz (plrust_timezone.c) ---- */
typedef enum PlrustZoneAnswer
{
	ZONE_OK,
	ZONE_MALFORMED,
	ZONE_OUT_OF_RANGE,
} PlrustZoneAnswer;
extern PlrustZoneAnswer plrust_timezone_answer(const uint8_t *payload, size_t len, uint8 reply[4]);
extern void plrust_timezone_op(const uint8_t *payload, size_t len, StringInfo out);
extern void plrust_server_version_op(size_t len, StringInfo out);

/* ---- the types beyond the first ABI's (plrust_types.c) ---- */

extern bool plrust_extra_scalar_of(Oid type_oid, PlrustScalar *out);
/* Whether a (non-array) value of this type points to buffers. */
extern bool plrust_scalar_has_buffers(PlrustScalar s);
extern bool plrust_scalar_is_range(PlrustScalar s);
extern PlrustScalar plrust_range_subtype(PlrustScalar s);
extern void plrust_extra_arg(PlrustValue *v, Datum d, PlrustScalar s);
extern Datum plrust_extra_result(const PlrustValue *v, PlrustScalar s);
extern Datum plrust_enum_result(const PlrustValue *v, Oid enum_type);
extern bool plrust_scalar_is_polymorphic(PlrustScalar s);

/* ---- small utilities (plrust_util.c) ---- */

extern void plrust_sha256_hex(const void *data, Size len, char out[PLRUST_SHA256_HEX_LEN + 1]);
extern bool plrust_is_sha256_hex(const char *s);
/* Reads a whole regular file; NULL with errno set on failure. */
extern char *plrust_read_file(const char *path, Size max_size, Size *len_out);
/* UTF-8 from the catalog's encoding, and back; both ERROR on bad input. */
extern char *plrust_to_utf8(const char *s, int len);
extern char *plrust_from_utf8(const char *s, Size len);
/* Message text from function code, made safe for ereport whatever it holds. */
extern char *plrust_message_text(const void *ptr, Size len, Size max_len);
extern bool plrust_list_has_string(List *list, const char *s);

/* ---- artifacts (plrust_store.c) ---- */

typedef struct PlrustArtifact
{
	char		arch[16];
	char		sha256[PLRUST_SHA256_HEX_LEN + 1];
	int32		abi_version;
	char	   *toolchain;
	char	   *data;
	Size		len;
} PlrustArtifact;

extern bool plrust_store_fetch(const char *hash, const char *arch, PlrustArtifact *out);
extern bool plrust_store_has(const char *hash, const char *arch);
extern void plrust_store_save(const char *hash, const PlrustArtifact *artifact);
extern void plrust_store_cleanup(void);
/* Whether this transaction may write the artifact table. */
extern bool plrust_store_writable(void);
extern bool plrust_prebuilt_read(const char *hash, const char *arch, PlrustArtifact *out);

/* ---- the compiler (plrust_compile.c) ---- */

/* Runs `plrust compile`; ERRORs with the compiler's message on failure. */
extern List *plrust_compile(const PlrustDef *def, List *arches);
/* Removes the compiler's cache entries of definitions not among live (text hashes). */
extern void plrust_work_dir_forget(Datum *live, int nlive);

/* ---- the check before loading (plrust_elf.c) ---- */

/* NULL when the library may be loaded, else why not (for errdetail). */
extern const char *plrust_elf_problem(const char *data, Size len);

/* ---- loading (plrust_loader.c) and the host side of calls (plrust_host.c) ---- */

/*
 * What the host callbacks of one library work with. Everything function
 * code allocates lives in fn_cxt until the code frees it or the library is
 * unloaded (docs/ABI.md, Memory: statics may keep heap data across calls).
 */
typedef struct PlrustHostCtx
{
	MemoryContext fn_cxt;		/* "PL/Rust function": lives as long as the library */
	Size		used;			/* bytes this library holds now: blocks and static data */
	bool		limit_hit;		/* a request was refused: the reserve is open */
	Size		refused_size;	/* the request that was refused */
} PlrustHostCtx;

typedef struct PlrustFunction
{
	TransactionId fn_xmin;		/* the pg_proc tuple it was loaded from */
	ItemPointerData fn_tid;
	PlrustDef  *def;
	void	   *dl_handle;
	plrust_call_fn call;
	PlrustValue *args;
	MemoryContext arg_cxt;		/* "PL/Rust arguments": host-owned, reset after every call */
	PlrustHost	host;
	PlrustHostCtx hctx;
	uintptr_t	code_start;		/* the library's executable mapping */
	uintptr_t	code_end;
	bool		broken;			/* a fault left its Rust state unusable: never called again */
	bool		isolated;		/* runs in the isolated process (plrust_isolation.c) */
	int			iso_fd;			/* isolated: the sealed library, sent to every new runner */
	uint32		iso_lib;		/* isolated: the runner's name for the library */
	uint64		iso_epoch;		/* isolated: the runner it is loaded in */
	bool		orphaned;		/* dropped from the table while a call was active: unload later */
} PlrustFunction;

/* Where function memory lives; a child of TopMemoryContext. */
extern MemoryContext plrust_top_context(void);
/* Loads and initialises the library of def; everything lives in a new fn context. */
extern PlrustFunction *plrust_load(PlrustDef *def, const PlrustArtifact *artifact,
								   MemoryContext fn_cxt);
extern void plrust_unload(PlrustFunction *fn);
/* Fills fn's host struct and memory accounting for a library living in fn_cxt. */
extern void plrust_host_init(PlrustFunction *fn, MemoryContext fn_cxt);
extern void plrust_prepare_call(PlrustFunction *fn);
extern void plrust_finish_call(PlrustFunction *fn);

/* ---- memory (plrust_memory.c) ---- */

/* Points the library's allocation callbacks at fn's context. */
extern void plrust_memory_attach(PlrustFunction *fn);
/* Counts the library's static data (writable segments); ERRORs over the limit. */
extern void plrust_memory_count_statics(PlrustFunction *fn, Size bytes);
/* The library is gone with its context: the session holds that much less. */
extern void plrust_memory_forget(PlrustFunction *fn);
/* What all PL/Rust functions of the session hold, in bytes. */
extern Size plrust_memory_held(void);
/* Gives the buffers of a returned value or error back to the library's allocator. */
extern void plrust_release_result(PlrustFunction *fn, const PlrustValue *result);
extern void plrust_release_error(PlrustFunction *fn, int32 status, const PlrustError *error);

/* ---- imports and layout of a loaded library (plrust_interpose.c) ---- */

/*
 * Right after dlopen: redirects the imports that would let function code
 * outlive a request (sleeps) or the session (exit-time destructors),
 * records where its code lies, and counts its static data.
 */
extern void plrust_adopt_library(PlrustFunction *fn, void *dl_handle);

/* ---- the end of the process (plrust_exit.c) ---- */

/* Once a library is loaded: the process ends within a deadline once PostgreSQL's cleanup is done. */
extern void plrust_exit_deadline_register(void);

/* ---- stack overflow outside checkpoints (plrust_overflow.c) ---- */

/* _PG_init: the stack-overflow handler (on an alternate signal stack). */
extern void plrust_overflow_init(void);
/* Lowest address the backend's stack may grow to; 0 when unknown. */
extern uintptr_t plrust_stack_floor(void);

/* ---- leaving Rust frames that cannot go on (plrust_escape.c) ---- */

/*
 * The call in progress, for the stack-overflow handler, the backstop and
 * the abort path: the function and an address in plrust_call_handler's
 * frame (NULL between calls, and from the moment a fault ends the call).
 */
extern PlrustFunction *volatile plrust_active_fn;
extern char *volatile plrust_active_frame;

/*
 * plrust_in_host counts host callbacks in progress: the backstop never
 * leaves the Rust frames from inside one, it leaves that to the callback's
 * end.
 */
extern volatile sig_atomic_t plrust_in_host;
extern volatile sig_atomic_t plrust_escape_deferred;

typedef enum PlrustFault
{
	PLRUST_FAULT_OVERFLOW,		/* the end of the stack, outside checkpoints */
	PLRUST_FAULT_UNANSWERED,	/* a request code without checkpoints ignored */
	PLRUST_FAULT_ABORTED		/* Rust's abort path */
} PlrustFault;

/* What the report needs; filled in just before the frames are left. */
typedef struct PlrustEscape
{
	PlrustFault fault;
	PlrustFunction *fn;
	char	   *frame;			/* plrust_active_frame of the call */
	bool		in_library;		/* stopped in the library's own code (or at a callback's end) */
	bool		from_sigalrm;	/* left from inside PostgreSQL's SIGALRM handler */
	const char *request;		/* UNANSWERED: which request, for the message */
	bool		terminate;		/* UNANSWERED: the request was to end the session */
	int			after_ms;		/* UNANSWERED: how long it went unanswered */
	char		text[1024];		/* ABORTED: Rust's message, made printable */
} PlrustEscape;

extern PlrustEscape plrust_escape_state;

/* Whether pc lies in the code of the library of the call in progress. */
extern bool plrust_pc_in_library(uintptr_t pc);
/* Leaves the Rust frames for good and reports plrust_escape_state (async-signal-safe entry). */
extern pg_noreturn void plrust_escape(void);
/* The report itself, for a context already moved below the call's frame. */
extern pg_noreturn void plrust_escape_report(void);
/* Stack between plrust_call_handler's frame and a report started there. */
#define PLRUST_RESUME_GAP ((uintptr_t) 4096)

/*
 * Marks fn as never to be called again (plrust_handler.c); the next call of
 * any PL/Rust function unloads it, once the error being reported no longer
 * needs its name.
 */
extern void plrust_discard(PlrustFunction *fn);

/* ---- the backstop for code that never reaches a checkpoint (plrust_backstop.c) ---- */

extern volatile TimestampTz plrust_unanswered_since;
extern bool plrust_backstop_armed(void);
extern void plrust_backstop_arm_slow(void);
extern void plrust_escape_deferred_now(void);
/* _PG_init: sees where SIGALRM interrupts function code. */
extern void plrust_backstop_init(void);
/* After leaving frames from inside the SIGALRM handler: PostgreSQL's timeouts fire again. */
extern void plrust_backstop_after_escape(void);

/* Before every call: a store, and a timer only when the tick has gone idle. */
static inline void
plrust_backstop_arm(void)
{
	plrust_unanswered_since = 0;
	if (unlikely(!plrust_backstop_armed()))
		plrust_backstop_arm_slow();
}

static inline void
plrust_host_enter(void)
{
	plrust_in_host++;
}

static inline void
plrust_host_leave(void)
{
	if (--plrust_in_host == 0 && unlikely(plrust_escape_deferred))
		plrust_escape_deferred_now();
}

/* ---- process isolation (plrust_isolation.c, docs/ISOLATION.md) ---- */

extern void plrust_isolation_define_guc(void);
/* Whether plrust.isolation, as it applies to the function's owner, is process. */
extern bool plrust_isolation_wanted(const PlrustDef *def);
extern PlrustFunction *plrust_isolated_load(PlrustDef *def, const PlrustArtifact *artifact,
											MemoryContext fn_cxt);
extern void plrust_isolated_unload(PlrustFunction *fn);
extern int32 plrust_isolated_call(PlrustFunction *fn, PlrustValue *result, PlrustError *error);
extern char *plrust_runner_path(void);
/* ERRORs unless a library's signature is what the catalog says (plrust_loader.c). */
extern void plrust_check_library_signature(const PlrustDef *def, const char *library_signature);

/* ---- conversion (plrust_convert.c) ---- */

extern void plrust_args_from_datums(PlrustFunction *fn, FunctionCallInfo fcinfo);
extern Datum plrust_result_to_datum(PlrustFunction *fn, FunctionCallInfo fcinfo,
									const PlrustValue *result, bool *isnull);
extern void plrust_value_from_datum(PlrustValue *v, Datum d, const PlrustType *t);
extern Datum plrust_value_to_datum(const PlrustValue *v, const PlrustType *t);
/* A composite value as its row bytes (docs/ABI.md, "Composite types"), and back. */
extern void plrust_composite_arg(PlrustValue *v, Datum d);
extern Datum plrust_composite_result(const PlrustValue *v, Oid type_oid);
/* An anyelement/anyarray value as its type and query value (docs/ABI.md, "Host requests"), and back. */
extern void plrust_any_arg(PlrustValue *v, Datum d, Oid given_type, int argno);
extern Datum plrust_any_result(const PlrustValue *v, Oid type_oid);

/* ---- host requests (plrust_request.c) ---- */

/* One active call; the innermost is where requests go. */
typedef struct PlrustCallState
{
	PlrustFunction *fn;
	PlrustValue *args;			/* fn->args and fn->arg_cxt of this call */
	MemoryContext arg_cxt;
	ErrorData  *raise;			/* raise this once the call has returned, whatever its status */
	ErrorData  *last_error;		/* the last error reply, raised again if the function returns it */
	struct Tuplestorestate *rows;	/* a set-returning call's result (rows arrive by request) */
	struct TupleDescData *rows_desc;
	struct TriggerData *trigger;	/* a trigger call's data */
	HeapTuple	trigger_result;		/* the row it returned (in call_cxt), or NULL */
	MemoryContext call_cxt;			/* the caller's context: results live there */
	struct PlrustCallState *outer;
} PlrustCallState;

extern PlrustCallState *plrust_current_call;
extern int32_t plrust_host_request(void *ctx, const uint8_t *msg, size_t len, PlrustSlice *reply);
extern bool plrust_fn_active(const PlrustFunction *fn);
extern ErrorData *plrust_call_error(PlrustCallState *st, int32 status, const PlrustError *error);

#endif							/* PLRUST_H */

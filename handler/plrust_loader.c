/*
 * plrust_loader.c — turns verified artifact bytes into a callable function
 * library, and the host side of the ABI (docs/ABI.md) for cancellation and
 * stack depth (memory: plrust_memory.c; the abort path: plrust_escape.c).
 *
 * Function code runs with Rust frames on the stack, so nothing it calls back
 * into may ereport/longjmp: allocation failures are NULL returns, cancel
 * requests are only reported (the wrapper unwinds, then the handler lets
 * PostgreSQL process the interrupt), and the stack limit is a number the
 * generated checkpoints compare against.
 */
#include "plrust.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#if defined(__x86_64__)
#define HOST_ELF_MACHINE EM_X86_64
#else
#define HOST_ELF_MACHINE EM_AARCH64
#endif

/* Stack kept free below the checkpoints' limit for unwinding and reporting. */
#define STACK_MARGIN ((Size) 64 * 1024)
#define MAX_SIGNATURE_LEN ((Size) 1 << 20)

StaticAssertDecl(sizeof(sig_atomic_t) == sizeof(int32_t),
				 "InterruptPending is read as an int32_t by function code");

static MemoryContext plrust_context = NULL;

MemoryContext
plrust_top_context(void)
{
	if (plrust_context == NULL)
		plrust_context = AllocSetContextCreate(TopMemoryContext, "PL/Rust", ALLOCSET_SMALL_SIZES);
	return plrust_context;
}

/* ---- cancellation and stack ---- */

/*
 * Only reports: processing the interrupt here could longjmp over Rust
 * frames. The handler calls CHECK_FOR_INTERRUPTS once the call returned.
 */
static int32_t
host_interrupt_requested(void *ctx)
{
	int32_t		requested;

	plrust_host_enter();
	requested = (QueryCancelPending || ProcDiePending) ? 1 : 0;
	plrust_host_leave();
	return requested;
}

/*
 * PostgreSQL measures stack depth from stack_base_ptr (see
 * stack_is_too_deep); set_stack_base is the public way to read it. The base
 * is fixed when the backend starts, so it is read once; the limit is
 * recomputed per call so that SET max_stack_depth applies at once.
 */
static uintptr_t
stack_limit(void)
{
	static char *base = NULL;
	Size		depth = (Size) max_stack_depth * 1024;
	Size		margin = Min(STACK_MARGIN, depth / 4);

	if (unlikely(base == NULL))
	{
		base = set_stack_base();
		restore_stack_base(base);
	}
	if (base == NULL)
		return 0;
	return (uintptr_t) base - (depth - margin);
}

/* ---- loading ---- */

static void
check_elf(const PlrustDef *def, const PlrustArtifact *a)
{
	Elf64_Ehdr	eh;

	if (a->len < sizeof(eh))
		goto bad;
	memcpy(&eh, a->data, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
		eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_DYN || eh.e_machine != HOST_ELF_MACHINE)
		goto bad;
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the artifact of PL/Rust function \"%s\" is not a shared library for %s",
					def->name, PLRUST_HOST_ARCH)));
}

static void
write_all(int fd, const char *data, Size len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			int			saved = errno;

			close(fd);
			errno = saved;
			ereport(ERROR, (errmsg("could not write a PL/Rust library to memory: %m")));
		}
		data += n;
		len -= n;
	}
}

/*
 * Loads the bytes from a sealed anonymous file: nothing on a file system
 * another user could replace between the checksum and dlopen, and not even
 * this process can change the contents once sealed.
 *
 * glibc recognises an already-loaded library by its path name, and
 * /proc/self/fd/N names get reused as descriptors are, so the name is
 * checked with RTLD_NOLOAD first and the descriptor moved until it is free.
 */
static void *
open_sealed(const PlrustDef *def, const PlrustArtifact *a)
{
	char		name[64];
	char		path[64];
	int			fd;
	int			use_fd;
	int			attempt;
	void	   *handle;

	snprintf(name, sizeof(name), "plrust:%s", def->name);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		ereport(ERROR, (errmsg("could not create an in-memory file for a PL/Rust library: %m")));
	write_all(fd, a->data, a->len);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
	{
		int			saved = errno;

		close(fd);
		errno = saved;
		ereport(ERROR, (errmsg("could not seal the in-memory file of a PL/Rust library: %m")));
	}

	use_fd = fd;
	for (attempt = 0;; attempt++)
	{
		void	   *existing;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", use_fd);
		existing = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
		if (existing == NULL)
			break;
		dlclose(existing);
		if (attempt == 1000)
		{
			close(fd);
			if (use_fd != fd)
				close(use_fd);
			ereport(ERROR, (errmsg("could not find an unused name to load a PL/Rust library")));
		}
		{
			int			next = fcntl(fd, F_DUPFD_CLOEXEC, use_fd + 1);

			if (use_fd != fd)
				close(use_fd);
			if (next < 0)
			{
				close(fd);
				ereport(ERROR, (errmsg("could not duplicate a descriptor: %m")));
			}
			use_fd = next;
		}
	}

	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (use_fd != fd)
		close(use_fd);
	close(fd);					/* the mapping keeps the sealed file alive */
	if (handle == NULL)
	{
		const char *why = dlerror();

		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("could not load the library of PL/Rust function \"%s\"", def->name),
				 errdetail_internal("%s", why != NULL ? why : "unknown dlopen error")));
	}
	return handle;
}

static void *
symbol(void *handle, const PlrustDef *def, const char *name)
{
	void	   *sym = dlsym(handle, name);

	if (sym == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("the library of PL/Rust function \"%s\" does not export %s", def->name, name)));
	return sym;
}

static Jsonb *
jsonb_from_utf8(const char *text, Size len)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(plrust_from_utf8(text, len))));
}

static void
signature_context(void *arg)
{
	errcontext("while checking the signature of the library of PL/Rust function \"%s\"",
			   ((const PlrustDef *) arg)->name);
}

/*
 * The library states what it was compiled for; it must be what the catalog
 * says now. The name is left out: it is not part of the definition hash, so
 * a renamed function (or an identical one under another name) shares the
 * library.
 */
static void
check_signature(const PlrustDef *def, const char *library_signature)
{
	ErrorContextCallback cb = {.previous = error_context_stack,.callback = signature_context,.arg = (void *) def};
	Size		len = strnlen(library_signature, MAX_SIGNATURE_LEN);
	char	   *expected = plrust_signature_json(def);
	Datum		got;
	Datum		want;

	error_context_stack = &cb;
	if (len == MAX_SIGNATURE_LEN)
		ereport(ERROR, (errmsg("the signature is not a string")));
	got = JsonbPGetDatum(jsonb_from_utf8(library_signature, len));
	if (!JB_ROOT_IS_OBJECT(DatumGetJsonbP(got)))
		ereport(ERROR, (errmsg("the signature is not a JSON object")));
	got = DirectFunctionCall2(jsonb_delete, got, CStringGetTextDatum("name"));
	want = JsonbPGetDatum(jsonb_from_utf8(expected, strlen(expected)));
	if (!DatumGetBool(DirectFunctionCall2(jsonb_eq, got, want)))
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("the library of PL/Rust function \"%s\" was built for a different signature", def->name),
				 errdetail_internal("Library: %s\nCatalog: %s",
									plrust_message_text(library_signature, len, 2000), expected)));
	error_context_stack = cb.previous;
}

static const char *
status_name(int32 status)
{
	switch (status)
	{
		case PLRUST_ABI_MISMATCH:
			return "ABI mismatch";
		case PLRUST_OOM:
			return "out of memory";
		case PLRUST_PANIC:
			return "panic";
		default:
			return "error";
	}
}

/*
 * Verifies and loads the artifact of def, all in fn_cxt ("PL/Rust
 * function"). On error nothing stays loaded; the caller deletes fn_cxt.
 */
PlrustFunction *
plrust_load(PlrustDef *def, const PlrustArtifact *artifact, MemoryContext fn_cxt)
{
	char		actual[PLRUST_SHA256_HEX_LEN + 1];
	PlrustFunction *fn;
	void	   *volatile handle = NULL;

	plrust_sha256_hex(artifact->data, artifact->len, actual);
	if (strcmp(actual, artifact->sha256) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the artifact of PL/Rust function \"%s\" does not match its checksum", def->name),
				 errdetail("Stored SHA-256 %s, computed %s.", artifact->sha256, actual),
				 errhint("Recreate the function with CREATE OR REPLACE FUNCTION.")));
	if (artifact->abi_version != PLRUST_ABI_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
				 errmsg("the artifact of PL/Rust function \"%s\" was built for ABI version %d, this handler speaks version %d",
						def->name, artifact->abi_version, PLRUST_ABI_VERSION),
				 errhint("Recreate the function with CREATE OR REPLACE FUNCTION.")));
	check_elf(def, artifact);

	fn = MemoryContextAllocZero(fn_cxt, sizeof(PlrustFunction));
	fn->def = def;
	fn->args = MemoryContextAllocZero(fn_cxt, sizeof(PlrustValue) * Max(def->nargs, 1));
	fn->arg_cxt = AllocSetContextCreate(fn_cxt, "PL/Rust arguments", ALLOCSET_DEFAULT_SIZES);
	fn->hctx.fn_cxt = fn_cxt;
	fn->host.abi_version = PLRUST_ABI_VERSION;
	fn->host.flags = 0;
	plrust_memory_attach(fn);
	fn->host.interrupt_flag = (const volatile int32_t *) &InterruptPending;
	fn->host.interrupt_requested = host_interrupt_requested;
	fn->host.stack_limit = stack_limit();

	PG_TRY();
	{
		plrust_abi_version_fn abi_version;
		plrust_signature_fn signature;
		plrust_init_fn init;
		uint32_t	reported;
		int32_t		status;

		handle = open_sealed(def, artifact);
		abi_version = (plrust_abi_version_fn) symbol(handle, def, PLRUST_SYM_ABI_VERSION);
		signature = (plrust_signature_fn) symbol(handle, def, PLRUST_SYM_SIGNATURE);
		init = (plrust_init_fn) symbol(handle, def, PLRUST_SYM_INIT);
		fn->call = (plrust_call_fn) symbol(handle, def, PLRUST_SYM_CALL);

		reported = abi_version();
		if (reported != PLRUST_ABI_VERSION)
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
					 errmsg("the library of PL/Rust function \"%s\" reports ABI version %u, this handler speaks version %d",
							def->name, reported, PLRUST_ABI_VERSION)));
		check_signature(def, signature());
		plrust_adopt_library(fn, handle);

		status = init(&fn->host);
		if (status != PLRUST_OK)
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION),
					 errmsg("the library of PL/Rust function \"%s\" failed to initialise (%s, status %d)",
							def->name, status_name(status), status)));
	}
	PG_CATCH();
	{
		if (handle != NULL)
			dlclose(handle);
		plrust_memory_forget(fn);
		PG_RE_THROW();
	}
	PG_END_TRY();

	fn->dl_handle = handle;
	return fn;
}

/*
 * glibc can keep a library loaded after dlclose (a DF_1_NODELETE flag, a
 * GNU unique symbol); its code may still reach its memory and host struct,
 * so then fn_cxt is kept, marked as retired, and stays counted.
 */
void
plrust_unload(PlrustFunction *fn)
{
	MemoryContext fn_cxt = fn->hctx.fn_cxt;
	void	   *code = (void *) fn->call;
	Dl_info		info;

	if (fn->dl_handle != NULL)
	{
		dlclose(fn->dl_handle);
		if (code != NULL && dladdr(code, &info) != 0)
		{
			MemoryContext old;

			MemoryContextDelete(fn->arg_cxt);
			fn->arg_cxt = NULL;
			old = MemoryContextSwitchTo(fn_cxt);
			MemoryContextSetIdentifier(fn_cxt, psprintf("%s (replaced; its library stayed loaded)",
														fn->def->name));
			MemoryContextSwitchTo(old);
			return;
		}
	}
	plrust_memory_forget(fn);
	MemoryContextDelete(fn_cxt);	/* fn itself lives there */
}

void
plrust_prepare_call(PlrustFunction *fn)
{
	PlrustHostCtx *h = &fn->hctx;

	/* leftovers of a call that ended in an ERROR */
	if (!fn->arg_cxt->isReset)
		MemoryContextReset(fn->arg_cxt);
	h->limit_hit = false;
	h->refused_size = 0;
	fn->host.stack_limit = stack_limit();
}

void
plrust_finish_call(PlrustFunction *fn)
{
	if (!fn->arg_cxt->isReset)
		MemoryContextReset(fn->arg_cxt);
}

/*
 * plrust_loader.c — turns verified artifact bytes into a callable function
 * library: checksum and ABI version, the ELF check (plrust_elf.c), a sealed
 * in-memory file for dlopen, the exported symbols and the signature.
 * The callbacks the library gets are in plrust_host.c.
 */
#include "plrust.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#define MAX_SIGNATURE_LEN ((Size) 1 << 20)

/*
 * The bytes are checked where they will be loaded from: this process's
 * memory, copied into a sealed file right after, so no file another user
 * can write sits between the check and dlopen.
 */
static void
check_elf(const PlrustDef *def, const PlrustArtifact *a)
{
	const char *problem = plrust_elf_problem(a->data, a->len);

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("refusing to load the library of PL/Rust function \"%s\"", def->name),
				 errdetail("The library failed the handler's check: %s.", problem),
				 errhint("Only libraries built by the plrust toolchain can be loaded; recreate the function with CREATE OR REPLACE FUNCTION, or rebuild its prebuilt artifact with plrust build.")));
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

void
plrust_check_library_signature(const PlrustDef *def, const char *library_signature)
{
	check_signature(def, library_signature);
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
	if (plrust_isolation_wanted(def))
		return plrust_isolated_load(def, artifact, fn_cxt);

	fn = MemoryContextAllocZero(fn_cxt, sizeof(PlrustFunction));
	fn->def = def;
	fn->args = MemoryContextAllocZero(fn_cxt, sizeof(PlrustValue) * Max(def->nargs, 1));
	fn->arg_cxt = AllocSetContextCreate(fn_cxt, "PL/Rust arguments", ALLOCSET_DEFAULT_SIZES);
	plrust_host_init(fn, fn_cxt);

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

	if (fn->isolated)
		plrust_isolated_unload(fn);
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

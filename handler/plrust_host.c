/*
 * plrust_host.c — the host side of the ABI (docs/ABI.md): the callbacks a
 * loaded function library calls (memory, cancellation), its stack limit,
 * the fatal path, and the bookkeeping around each call.
 *
 * Function code runs with Rust frames on the stack, so nothing it calls back
 * into may ereport/longjmp: allocation failures are NULL returns, cancel
 * requests are only reported (the wrapper unwinds, then the handler lets
 * PostgreSQL process the interrupt), and the stack limit is a number the
 * generated checkpoints compare against.
 */
#include "plrust.h"

#include <signal.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"

/* Opened once the limit is hit, so the panic path can build its payload. */
#define OOM_RESERVE ((Size) 64 * 1024)
/* Largest alignment honoured; Rust never needs more for real types. */
#define MAX_ALIGN ((Size) 1 << 20)
/* Stack kept free below the checkpoints' limit for unwinding and reporting. */
#define STACK_MARGIN ((Size) 64 * 1024)
/* Stack the allocation callbacks need (palloc, malloc, mmap) with room to spare. */
#define CALLBACK_STACK_ROOM ((Size) 64 * 1024)
/* docs/ABI.md: an array result is one alloc(len * 24, 8) block */
#define RESULT_ARRAY_ALIGN ((Size) 8)

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

/* ---- memory ---- */

/*
 * Function code must never see a longjmp, so every allocation is
 * MCXT_ALLOC_NO_OOM and every refusal a NULL return. `used` counts the
 * bytes the library holds right now (alloc adds, dealloc subtracts, realloc
 * adjusts), so plrust.memory_limit bounds what a function keeps, including
 * what it keeps in statics across calls, not what it ever allocated.
 */
static bool
within_budget(PlrustHostCtx *h, Size need)
{
	Size		cap;

	if (h->limit == 0)
		return true;
	cap = h->limit + (h->limit_hit ? OOM_RESERVE : 0);
	if (h->used <= cap && need <= cap - h->used)
		return true;
	h->limit_hit = true;
	return false;
}

/* Bytes actually requested for a (size, align) pair: over-aligned blocks carry slack. */
static inline Size
footprint(Size size, Size align)
{
	return align > MAXIMUM_ALIGNOF ? size + align : size;
}

/*
 * Whether the stack still has room for palloc and malloc. Compiler-made
 * frames (drop glue) carry no checkpoint, so code can reach a callback with
 * the stack nearly gone; an overflow inside the allocator would leave its
 * state half-updated, while one in Rust code is caught by plrust_fault.c.
 */
static inline bool
stack_has_room(void)
{
	char		here;
	uintptr_t	floor = plrust_stack_floor();

	return floor == 0 || (uintptr_t) &here > floor + CALLBACK_STACK_ROOM;
}

static void *
alloc_block(void *ctx, size_t size, size_t align)
{
	PlrustHostCtx *h = ctx;
	Size		need = footprint(size, align);
	char	   *raw;
	char	   *aligned;

	if ((align & (align - 1)) != 0 || align > MAX_ALIGN || need < size ||
		need > MaxAllocHugeSize || !within_budget(h, need) || !stack_has_room())
	{
		h->refused_size = size;
		return NULL;
	}
	raw = MemoryContextAllocExtended(h->fn_cxt, need, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (raw == NULL)
	{
		h->refused_size = size;
		return NULL;
	}
	h->used += need;
	if (align <= MAXIMUM_ALIGNOF)
		return raw;
	/* palloc aligns to MAXIMUM_ALIGNOF only; keep the real start just below. */
	aligned = (char *) TYPEALIGN(align, (uintptr_t) raw + sizeof(void *));
	((void **) aligned)[-1] = raw;
	return aligned;
}

static inline void *
raw_pointer(void *ptr, Size align)
{
	return align > MAXIMUM_ALIGNOF ? ((void **) ptr)[-1] : ptr;
}

static void
free_block(void *ctx, void *ptr, size_t size, size_t align)
{
	PlrustHostCtx *h = ctx;
	Size		amount = footprint(size, align);

	if (ptr == NULL)
		return;
	/* without room, the block stays allocated (and counted) until the library is unloaded */
	if (!stack_has_room())
		return;
	h->used = h->used > amount ? h->used - amount : 0;
	pfree(raw_pointer(ptr, align));
}

/*
 * Shrinking keeps the block (and counts the smaller size); growing moves it
 * to a new block, since repalloc cannot be told not to throw before
 * PostgreSQL 16.
 */
static void *
realloc_block(void *ctx, void *ptr, size_t old_size, size_t align, size_t new_size)
{
	PlrustHostCtx *h = ctx;
	void	   *moved;

	if (ptr == NULL)
		return alloc_block(ctx, new_size, align);
	if (new_size <= old_size)
	{
		Size		less = old_size - new_size;

		h->used = h->used > less ? h->used - less : 0;
		return ptr;
	}
	moved = alloc_block(ctx, new_size, align);
	if (moved == NULL)
		return NULL;
	memcpy(moved, ptr, old_size);
	free_block(ctx, ptr, old_size, align);
	return moved;
}

/*
 * The callbacks function code sees. palloc's state is half-updated while
 * they run, so the backstop (plrust_fault.c) must not leave the Rust frames
 * then: it marks the region and, if it gave up meanwhile, leaves at its end.
 */
static void *
host_alloc(void *ctx, size_t size, size_t align)
{
	void	   *p;

	plrust_host_enter();
	p = alloc_block(ctx, size, align);
	plrust_host_leave();
	return p;
}

static void
host_dealloc(void *ctx, void *ptr, size_t size, size_t align)
{
	plrust_host_enter();
	free_block(ctx, ptr, size, align);
	plrust_host_leave();
}

static void *
host_realloc(void *ctx, void *ptr, size_t old_size, size_t align, size_t new_size)
{
	void	   *p;

	plrust_host_enter();
	p = realloc_block(ctx, ptr, old_size, align, new_size);
	plrust_host_leave();
	return p;
}

static void
release_bytes(PlrustFunction *fn, PlrustSlice s)
{
	if (s.ptr != NULL && s.len > 0)
		free_block(&fn->hctx, (void *) s.ptr, s.len, 1);
}

/*
 * The buffers of a returned value belong to the host once plrust_call has
 * returned; they were allocated by the library's host->alloc, so they go
 * back the same way (docs/ABI.md, Results): element buffers, then the array.
 */
void
plrust_release_result(PlrustFunction *fn, const PlrustValue *result)
{
	const PlrustType *t = &fn->def->ret_type;

	if (result->is_null || t->scalar == PLRUST_VOID)
		return;
	if (t->is_array)
	{
		const PlrustValue *elems = result->v.array.ptr;
		Size		n = result->v.array.len;

		if (elems == NULL || n == 0)
			return;
		if (t->scalar == PLRUST_TEXT || t->scalar == PLRUST_VARCHAR || t->scalar == PLRUST_BYTEA)
		{
			Size		i;

			for (i = 0; i < n; i++)
				if (!elems[i].is_null)
					release_bytes(fn, elems[i].v.bytes);
		}
		free_block(&fn->hctx, (void *) elems, n * sizeof(PlrustValue), RESULT_ARRAY_ALIGN);
	}
	else if (t->scalar == PLRUST_TEXT || t->scalar == PLRUST_VARCHAR || t->scalar == PLRUST_BYTEA)
		release_bytes(fn, result->v.bytes);
}

/* Error buffers likewise, except the static messages of two statuses. */
void
plrust_release_error(PlrustFunction *fn, int32 status, const PlrustError *error)
{
	if (status == PLRUST_OK || status == PLRUST_OOM || status == PLRUST_NOT_INITIALIZED)
		return;
	release_bytes(fn, error->message);
	release_bytes(fn, error->location);
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

/* ---- the fatal path ---- */

/*
 * Rust's abort path ends here. The Rust runtime state of this backend is
 * broken, so the session ends with FATAL: proc_exit releases locks and
 * shared state, and the postmaster sees an ordinary session exit. The
 * thread-local destructors of the libraries would run that broken state
 * once more in exit(), so the exit skips them after PostgreSQL's cleanup;
 * a second abort while this one is reported, or one from a destructor that
 * exit() runs at the end of a healthy session, ends the process at once
 * with the same status.
 */
void
plrust_host_fatal(const uint8_t *msg, size_t len)
{
	static volatile sig_atomic_t fataling = false;
	char		text[1024];
	Size		n = Min(len, sizeof(text) - 1);
	Size		i;
	bool		keep_utf8;

	if (fataling)
		_exit(1);
	fataling = true;
	/* the call is over: the backstop must not leave these frames while this is reported */
	plrust_active_frame = NULL;

	if (msg == NULL)
		n = 0;
	while (n > 0 && n < len && (msg[n] & 0xC0) == 0x80)
		n--;
	memcpy(text, msg != NULL ? (const char *) msg : "", n);
	text[n] = '\0';
	keep_utf8 = GetDatabaseEncoding() == PG_UTF8 && pg_verify_mbstr(PG_UTF8, text, (int) n, true);
	for (i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) text[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f || (ch >= 0x80 && !keep_utf8))
			text[i] = '?';
	}

	/* a thread-local destructor of a library, run by exit(): the session is ending anyway */
	if (proc_exit_inprogress)
	{
		ereport(LOG,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("a PL/Rust library aborted while the session was exiting: %s", text)));
		_exit(1);
	}
	plrust_skip_library_destructors();
	if (plrust_active_fn != NULL)
		ereport(FATAL,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("PL/Rust function \"%s\" aborted: %s", plrust_active_fn->def->name, text),
				 errdetail("The Rust runtime cannot continue after this fault, so this session ends. "
						   "The server and other sessions are not affected.")));
	ereport(FATAL,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("PL/Rust function aborted: %s", text),
			 errdetail("The Rust runtime cannot continue after this fault, so this session ends. "
					   "The server and other sessions are not affected.")));
	pg_unreachable();
}

/* The host struct a library is initialised with; its context is fn_cxt. */
void
plrust_host_init(PlrustFunction *fn, MemoryContext fn_cxt)
{
	fn->hctx.fn_cxt = fn_cxt;
	fn->hctx.limit = (Size) plrust_memory_limit_kb * 1024;
	fn->host.abi_version = PLRUST_ABI_VERSION;
	fn->host.flags = 0;
	fn->host.ctx = &fn->hctx;
	fn->host.alloc = host_alloc;
	fn->host.dealloc = host_dealloc;
	fn->host.realloc = host_realloc;
	fn->host.interrupt_flag = (const volatile int32_t *) &InterruptPending;
	fn->host.interrupt_requested = host_interrupt_requested;
	fn->host.stack_limit = stack_limit();
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
	h->limit = (Size) plrust_memory_limit_kb * 1024;
	fn->host.stack_limit = stack_limit();
}

void
plrust_finish_call(PlrustFunction *fn)
{
	if (!fn->arg_cxt->isReset)
		MemoryContextReset(fn->arg_cxt);
}

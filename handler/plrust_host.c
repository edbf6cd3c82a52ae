/*
 * plrust_host.c — the host side of the ABI (docs/ABI.md): the host struct a
 * loaded function library gets, the cancellation callback, its stack limit,
 * and the bookkeeping around each call. The memory callbacks are in
 * plrust_memory.c, the abort path (plrust_host_fatal) in plrust_escape.c.
 *
 * Function code runs with Rust frames on the stack, so nothing it calls back
 * into may ereport/longjmp: allocation failures are NULL returns, cancel
 * requests are only reported (the wrapper unwinds, then the handler lets
 * PostgreSQL process the interrupt), and the stack limit is a number the
 * generated checkpoints compare against.
 */
#include "plrust.h"

#include <signal.h>

#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"

/* Stack kept free below the checkpoints' limit for unwinding and reporting. */
#define STACK_MARGIN ((Size) 64 * 1024)

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

/* The host struct a library is initialised with; its context is fn_cxt. */
void
plrust_host_init(PlrustFunction *fn, MemoryContext fn_cxt)
{
	fn->hctx.fn_cxt = fn_cxt;
	fn->host.abi_version = PLRUST_ABI_VERSION;
	fn->host.flags = 0;
	plrust_memory_attach(fn);
	fn->host.interrupt_flag = (const volatile int32_t *) &InterruptPending;
	fn->host.interrupt_requested = host_interrupt_requested;
	fn->host.stack_limit = stack_limit();
	fn->host.request = plrust_host_request;
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

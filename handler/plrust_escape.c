/*
 * plrust_escape.c — leaving a PL/Rust call whose Rust frames cannot go on,
 * and what becomes of the function and the session afterwards.
 *
 * Three faults end a call without returning through its frames: the end of
 * the stack reached by code without checkpoints (plrust_overflow.c), a
 * cancel or terminate request that such code never answers
 * (plrust_backstop.c), and Rust's abort path (plrust_host_fatal, below: a
 * panic inside Drop while unwinding, a panic while formatting a panic
 * message). The backend leaves the Rust frames where they are and goes on
 * below plrust_call_handler's frame, in a report.
 *
 * Whether the session can go on depends on where function code was
 * stopped. In the library's own code (or at the end of a host callback),
 * PostgreSQL's state is whole: function code calls nothing of PostgreSQL
 * but the host callbacks, and it is never stopped inside one. What is
 * broken is the library's Rust state (held locks, a half-built value, the
 * panic count), and that lives only in the library's mappings and its
 * memory context: the library is marked broken and unloaded with both
 * before any further call, the statement fails with an ERROR, and the next
 * call loads the function afresh. The error's context still names the
 * function, which is why the unloading waits for that next call. Stopped
 * anywhere else (inside libc, the dynamic loader or the unwinder, which keep
 * state of their own), nothing short of the end of the process can be
 * trusted: the session ends with FATAL. So does a request to terminate the
 * session, which is what was asked for.
 */
#include "plrust.h"

#include <ucontext.h>
#include <unistd.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"

PlrustFunction *volatile plrust_active_fn = NULL;
char	   *volatile plrust_active_frame = NULL;
volatile sig_atomic_t plrust_in_host = 0;
volatile sig_atomic_t plrust_escape_deferred = false;
PlrustEscape plrust_escape_state;

/* Stack for the step between the frames that decided to leave and the report's. */
#define HOP_STACK_SIZE ((Size) 32 * 1024)
/* Room the report gets above the abandoned frames' lowest possible address. */
#define REPORT_STACK_SIZE ((Size) 1024 * 1024)

static ucontext_t hop_context;
static ucontext_t report_context;
static char hop_stack[HOP_STACK_SIZE] pg_attribute_aligned(16);
/* An abort is being reported: a second one cannot be. */
static volatile sig_atomic_t aborting = false;

bool
plrust_pc_in_library(uintptr_t pc)
{
	PlrustFunction *fn = plrust_active_fn;

	return fn != NULL && pc >= fn->code_start && pc < fn->code_end;
}

pg_noreturn void
plrust_escape_report(void)
{
	PlrustEscape *e = &plrust_escape_state;
	bool		recover;

	if (e->from_sigalrm)
	{
		/* handle_sig_alarm held interrupts and never got to resume them, nor to rearm the timer */
		if (InterruptHoldoffCount > 0)
			InterruptHoldoffCount--;
		plrust_backstop_after_escape();
	}
	plrust_active_fn = NULL;
	plrust_in_host = 0;
	/* a tick may have deferred its escape to a callback's end that never came */
	plrust_escape_deferred = false;
	recover = e->in_library && e->fn != NULL && !(e->fault == PLRUST_FAULT_UNANSWERED && e->terminate);
	if (recover)
		plrust_discard(e->fn);
	aborting = false;

	switch (e->fault)
	{
		case PLRUST_FAULT_OVERFLOW:
			ereport(recover ? ERROR : FATAL,
					(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
					 errmsg("function overflowed the stack"),
					 recover
					 ? errdetail("Code the stack checks do not see (the drop of a deeply nested value, or a "
								 "single frame larger than the stack left) went past the end of the stack, "
								 "beyond max_stack_depth (%dkB). The function was stopped there and its "
								 "library unloaded; the next call loads it again.", max_stack_depth)
					 : errdetail("The stack ran out outside the function's own code, where the state left "
								 "behind cannot be trusted, so this session ends; the server and other "
								 "sessions are not affected.")));
			break;
		case PLRUST_FAULT_UNANSWERED:
			ereport(recover ? ERROR : FATAL,
					(errcode(e->terminate ? ERRCODE_ADMIN_SHUTDOWN : ERRCODE_QUERY_CANCELED),
					 errmsg("function did not respond to %s", e->request),
					 recover
					 ? errdetail("It was still running at least %d ms after the request, in code that never "
								 "checks for one (a loop inside the Rust standard library). It was stopped "
								 "there and its library unloaded; the next call loads it again.", e->after_ms)
					 : errdetail("It was still running at least %d ms after the request, in code that never "
								 "checks for one (a loop inside the Rust standard library). It was stopped "
								 "where it was, so this session ends; the server and other sessions are not "
								 "affected.", e->after_ms)));
			break;
		case PLRUST_FAULT_ABORTED:
			ereport(recover ? ERROR : FATAL,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("function aborted: %s", e->text),
					 recover
					 ? errdetail("The Rust runtime cannot continue after this fault, so the function's "
								 "library was unloaded; the next call loads it again.")
					 : errdetail("The Rust runtime cannot continue after this fault, so this session ends. "
								 "The server and other sessions are not affected.")));
			break;
	}
	pg_unreachable();
}

/*
 * Runs on hop_stack, where nothing below the call site is live any more:
 * starts the report on the stack just below plrust_call_handler's frame,
 * over the abandoned Rust frames (the frames above, and the error context
 * callbacks they hold, stay intact), with SIGALRM deliverable again.
 */
pg_noreturn static void
hop_to_report(void)
{
	uintptr_t	top = ((uintptr_t) plrust_escape_state.frame - PLRUST_RESUME_GAP) & ~(uintptr_t) 15;
	uintptr_t	floor = plrust_stack_floor();
	Size		size = REPORT_STACK_SIZE;

	if (floor != 0 && top > floor && top - floor < size)
		size = top - floor;
	if (getcontext(&report_context) != 0)
		_exit(1);
	report_context.uc_stack.ss_sp = (void *) (top - size);
	report_context.uc_stack.ss_size = size;
	report_context.uc_link = NULL;
	sigdelset(&report_context.uc_sigmask, SIGALRM);
	makecontext(&report_context, plrust_escape_report, 0);
	setcontext(&report_context);
	_exit(1);					/* setcontext returns only on failure */
}

/*
 * Leaves the Rust frames for good. Two steps, because the frames running
 * this (a signal handler's, a callback's) may lie just below the call site,
 * where the report's stack begins.
 */
pg_noreturn void
plrust_escape(void)
{
	plrust_escape_state.frame = plrust_active_frame;
	/* the call is over: nothing may fire for it again */
	plrust_active_frame = NULL;
	plrust_escape_deferred = false;

	if (getcontext(&hop_context) != 0)
		_exit(1);
	hop_context.uc_stack.ss_sp = hop_stack;
	hop_context.uc_stack.ss_size = sizeof(hop_stack);
	hop_context.uc_link = NULL;
	makecontext(&hop_context, hop_to_report, 0);
	setcontext(&hop_context);
	_exit(1);
}

/* Rust's message, cut at a character boundary and made safe for the log. */
static void
printable(const uint8_t *msg, size_t len, char *text, Size size)
{
	Size		n = msg == NULL ? 0 : Min(len, size - 1);
	Size		i;
	bool		keep_utf8;

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
}

/*
 * Rust's abort path ends here (docs/ABI.md). During a call it is a fault
 * like the others: the frames are left, the library unloaded, the statement
 * fails. Outside a call (while a library initialises) there are no frames
 * to leave it at, so the session ends with FATAL. A second abort while one
 * is reported, or one while the process is exiting, ends the process at
 * once with an ordinary exit status.
 */
void
plrust_host_fatal(const uint8_t *msg, size_t len)
{
	PlrustEscape *e = &plrust_escape_state;

	if (aborting)
		_exit(1);
	aborting = true;
	printable(msg, len, e->text, sizeof(e->text));

	if (proc_exit_inprogress)
	{
		ereport(LOG,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("a PL/Rust library aborted while the session was exiting: %s", e->text)));
		_exit(1);
	}
	e->fault = PLRUST_FAULT_ABORTED;
	e->fn = plrust_active_fn;
	e->from_sigalrm = false;
	if (plrust_active_frame != NULL)
	{
		e->in_library = plrust_pc_in_library((uintptr_t) __builtin_return_address(0));
		plrust_escape();
	}
	/* the call is over: the backstop must not leave these frames while this is reported */
	plrust_active_frame = NULL;
	e->in_library = false;
	plrust_escape_report();
}

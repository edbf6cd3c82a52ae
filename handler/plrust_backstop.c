/*
 * plrust_backstop.c — code that never reaches a checkpoint
 * (docs/TRUST.md, "Run-time faults").
 *
 * Checkpoints sit in the user's code only; a loop inside std or core that
 * never calls back into it (iter::repeat(x).count(), a fold over
 * 0..u64::MAX with an inlined closure) would ignore statement_timeout,
 * pg_cancel_backend and pg_terminate_backend, and only SIGKILL, i.e. crash
 * recovery, could stop it. While a call runs, a PostgreSQL timeout ticks; a
 * cancel or terminate request still pending after a grace period (a
 * checkpoint answers one within microseconds) means the code does not
 * check, and the backend leaves the Rust frames (plrust_escape.c).
 *
 * Where it leaves them decides what follows, so the tick needs the
 * interrupted program counter: SIGALRM goes through a small handler of ours
 * that records it and then runs PostgreSQL's. Never from inside a host
 * callback (palloc state would be half-updated): the callback's end does
 * it. Never from inside libc or the loader either: the tick waits for a
 * later one that stops the library's own code, and only when none has for
 * GIVE_UP_MS does it leave wherever the code is, ending the session.
 */
#include "plrust.h"

#include <signal.h>
#include <ucontext.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

/* How often the tick looks while a call runs, and how long a request may stay unanswered. */
#define TICK_MS 250
#define GRACE_MS 1000
/* How long the tick waits for a stop in the library's own code before ending the session. */
#define GIVE_UP_MS 10000

volatile TimestampTz plrust_unanswered_since = 0;

static bool tick_registered = false;
static TimeoutId tick_id;

#if PG_VERSION_NUM < 140000
/*
 * PostgreSQL 13 has no get_timeout_active: the tick keeps its own state.
 * Error recovery disables every timeout between statements, so that state
 * holds for the statement it was set in only.
 */
static volatile sig_atomic_t tick_pending = false;
static TimestampTz tick_statement = 0;
#endif

/* PostgreSQL's SIGALRM action, which ours runs after noting where the signal landed. */
static struct sigaction postgres_alarm;
static bool alarm_wrapped = false;
/* The program counter SIGALRM interrupted; 0 when unknown. */
static volatile uintptr_t alarm_pc = 0;

static void
alarm_handler(int signo, siginfo_t *info, void *context)
{
	const ucontext_t *uc = context;
	uintptr_t	outer = alarm_pc;

#if defined(__x86_64__)
	alarm_pc = (uintptr_t) uc->uc_mcontext.gregs[REG_RIP];
#else
	alarm_pc = (uintptr_t) uc->uc_mcontext.pc;
#endif
	if (postgres_alarm.sa_flags & SA_SIGINFO)
		postgres_alarm.sa_sigaction(signo, info, context);
	else
		postgres_alarm.sa_handler(signo);
	alarm_pc = outer;
}

/*
 * _PG_init, in a backend: PostgreSQL has installed its timeout handler by
 * then. Loaded in the postmaster (shared_preload_libraries) there is none
 * yet, and the program counter stays unknown.
 */
void
plrust_backstop_init(void)
{
	struct sigaction ours;

	if (sigaction(SIGALRM, NULL, &postgres_alarm) != 0 ||
		postgres_alarm.sa_handler == SIG_DFL || postgres_alarm.sa_handler == SIG_IGN)
		return;
	ours = postgres_alarm;
	ours.sa_sigaction = alarm_handler;
	ours.sa_flags |= SA_SIGINFO;
	if (sigaction(SIGALRM, &ours, NULL) == 0)
		alarm_wrapped = true;
}

static void
rearm_tick(void)
{
#if PG_VERSION_NUM < 140000
	tick_pending = true;
	tick_statement = GetCurrentStatementStartTimestamp();
#endif
	enable_timeout_after(tick_id, TICK_MS);
}

void
plrust_escape_deferred_now(void)
{
	plrust_escape_deferred = false;
	if (plrust_active_frame != NULL && !proc_exit_inprogress)
	{
		/* the callback is over and its caller is the library's code */
		plrust_escape_state.in_library = true;
		plrust_escape_state.from_sigalrm = false;
		plrust_escape();
	}
}

/*
 * The timeout handler (inside PostgreSQL's SIGALRM handler). Between calls
 * it does nothing and is not re-armed, so an idle session gets no more
 * ticks; the next call arms it again.
 */
static void
tick(void)
{
	PlrustEscape *e = &plrust_escape_state;
	TimestampTz now;
	TimestampTz since;
	int			waited_ms;
	bool		in_library;

#if PG_VERSION_NUM < 140000
	tick_pending = false;
#endif
	if (plrust_active_frame == NULL || proc_exit_inprogress)
		return;
	if (!(InterruptPending && (QueryCancelPending || ProcDiePending)))
	{
		plrust_unanswered_since = 0;
		rearm_tick();
		return;
	}
	now = GetCurrentTimestamp();
	since = plrust_unanswered_since;
	if (since == 0)
	{
		plrust_unanswered_since = now;
		rearm_tick();
		return;
	}
	waited_ms = (int) ((now - since) / 1000);
	in_library = alarm_wrapped && plrust_pc_in_library(alarm_pc);
	/* without the program counter there is no better moment to wait for */
	if (waited_ms >= GRACE_MS &&
		(plrust_in_host > 0 || in_library || !alarm_wrapped || waited_ms >= GIVE_UP_MS))
	{
		e->fault = PLRUST_FAULT_UNANSWERED;
		e->fn = plrust_active_fn;
		e->after_ms = waited_ms;
		e->terminate = ProcDiePending;
		e->request = ProcDiePending ? "the request to terminate the session"
			: get_timeout_indicator(STATEMENT_TIMEOUT, false) ? "the statement timeout"
			: "the cancel request";
		if (plrust_in_host > 0)
		{
			plrust_escape_deferred = true;
			rearm_tick();
			return;
		}
		e->in_library = in_library;
		e->from_sigalrm = true;
		plrust_escape();
	}
	rearm_tick();
}

void
plrust_backstop_arm_slow(void)
{
	if (!tick_registered)
	{
		tick_id = RegisterTimeout(USER_TIMEOUT, tick);
		tick_registered = true;
	}
	rearm_tick();
}

bool
plrust_backstop_armed(void)
{
	if (!tick_registered)
		return false;
#if PG_VERSION_NUM >= 140000
	return get_timeout_active(tick_id);
#else
	return tick_pending && tick_statement == GetCurrentStatementStartTimestamp();
#endif
}

/*
 * The tick left PostgreSQL's SIGALRM handler half-way: the timeouts due
 * after it were neither run nor scheduled. Disabling the tick reschedules
 * whatever is still active.
 */
void
plrust_backstop_after_escape(void)
{
	if (tick_registered)
		disable_timeout(tick_id, false);
}

/*
 * plrust_fault.c — containment of the faults that checkpoints and panics
 * cannot turn into an ordinary error (docs/TRUST.md, "Run-time faults").
 *
 * Stack overflow outside checkpoints. Checkpoints compare the stack with
 * max_stack_depth at every function and loop entry of user code, but code
 * the compiler generates (the drop of a deeply nested Box list, say) has
 * none and can run into the end of the stack. The backend would die on
 * SIGSEGV and the postmaster would end every session and run crash
 * recovery. A SIGSEGV handler on an alternate signal stack recognises a
 * fault at the end of the stack during a PL/Rust call and resumes the
 * backend, on the stack above the abandoned Rust frames, in a function that
 * ends the session with FATAL: the library's Rust state (held locks, half-
 * built values) cannot be trusted any more, but PostgreSQL's is intact,
 * because the allocation callbacks refuse to run without stack room
 * (plrust_loader.c) and function code calls nothing else of PostgreSQL.
 *
 * Sleeping. std's thread::sleep calls clock_nanosleep and goes back to sleep
 * after every signal, so a long sleep would outlive statement_timeout and
 * pg_cancel_backend. Each library's import of clock_nanosleep is redirected
 * to a sleep that ends as soon as a cancel or terminate request is pending;
 * the next checkpoint (or PostgreSQL, once the call returns) then stops the
 * statement.
 *
 * Code that never reaches a checkpoint. Checkpoints sit in the user's code
 * only; a loop inside std or core that never calls back into it
 * (iter::repeat(x).count(), a fold over 0..u64::MAX with an inlined closure)
 * would ignore statement_timeout, pg_cancel_backend and
 * pg_terminate_backend, and only SIGKILL, i.e. crash recovery, could stop
 * it. While a call runs, a PostgreSQL timeout ticks; a cancel or terminate
 * request still pending after a grace period (a checkpoint answers one
 * within microseconds) means the code does not check, and the backend
 * leaves the Rust frames the way the stack-overflow path does: it resumes
 * above them and ends the session with FATAL. Never from inside a host
 * callback (palloc state would be half-updated): the callback's end does it.
 */
#include "plrust.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

PlrustFunction *volatile plrust_active_fn = NULL;
char	   *volatile plrust_active_frame = NULL;
volatile sig_atomic_t plrust_in_host = 0;
volatile sig_atomic_t plrust_escape_deferred = false;
volatile TimestampTz plrust_unanswered_since = 0;

/* Size of the alternate signal stack the SIGSEGV handler runs on. */
#define ALT_STACK_SIZE ((Size) 64 * 1024)

/*
 * A fault counts as running out of stack when its address (or the
 * interrupted stack pointer, when the kernel could not even push a signal
 * frame) lies within this distance of the stack's floor: below it by up to
 * the kernel's guard gap (1 MB by default) plus a large frame's probe
 * distance, or just above it.
 */
#define BELOW_FLOOR ((uintptr_t) 2 * 1024 * 1024)
#define ABOVE_FLOOR ((uintptr_t) 256 * 1024)

/*
 * Where the FATAL report runs: this far below the address taken in
 * plrust_call_handler's frame, i.e. over the abandoned Rust frames, so the
 * frames above (and the error context callbacks they hold) stay intact.
 */
#define RESUME_GAP ((uintptr_t) 4096)

/* Longest slice of an interposed sleep between two looks at the interrupt flags. */
#define SLEEP_SLICE_NS 50000000L
#define NS_PER_S 1000000000L

static uintptr_t stack_floor = 0;
static struct sigaction previous_segv;
static PlrustFunction *overflowed_fn = NULL;

uintptr_t
plrust_stack_floor(void)
{
	return stack_floor;
}

/* ---- ending the session without the library's destructors ---- */

/*
 * Runs first among the on_proc_exit callbacks (they run last-registered
 * first), after shared memory has been cleaned up: the exit() that would
 * follow runs the thread-local destructors of every loaded library, which
 * after a fault could hang on a lock the abandoned frames held or fault
 * again.
 */
static void
exit_without_destructors(int code, Datum arg)
{
	_exit(code);
}

void
plrust_skip_library_destructors(void)
{
	static bool registered = false;

	if (registered || proc_exit_inprogress)
		return;
	registered = true;
	on_proc_exit(exit_without_destructors, (Datum) 0);
}

/* ---- stack overflow ---- */

pg_noreturn static void
report_overflow(void)
{
	PlrustFunction *fn = overflowed_fn;

	plrust_skip_library_destructors();
	ereport(FATAL,
			(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
			 errmsg("PL/Rust function \"%s\" overflowed the stack", fn != NULL ? fn->def->name : "?"),
			 errdetail("Code the stack checks do not see (the drop of a deeply nested value, or a "
					   "single frame larger than the stack left) went past the end of the stack, beyond "
					   "max_stack_depth (%dkB). The function's state cannot be recovered, so this session "
					   "ends; the server and other sessions are not affected.", max_stack_depth)));
	pg_unreachable();
}

static inline bool
near_floor(uintptr_t addr)
{
	return addr < stack_floor + ABOVE_FLOOR && addr + BELOW_FLOOR >= stack_floor;
}

static inline uintptr_t
interrupted_sp(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t) uc->uc_mcontext.gregs[REG_RSP];
#else
	return (uintptr_t) uc->uc_mcontext.sp;
#endif
}

/* Makes the interrupted context continue in target(), as if called with stack pointer sp. */
static void
resume_in(ucontext_t *uc, void (*target) (void), uintptr_t sp)
{
	sp &= ~(uintptr_t) 15;
#if defined(__x86_64__)
	sp -= sizeof(uintptr_t);	/* the return address slot of a call */
	*(uintptr_t *) sp = 0;
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t) sp;
	uc->uc_mcontext.gregs[REG_RBP] = 0;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t) (uintptr_t) target;
#else
	uc->uc_mcontext.sp = sp;
	uc->uc_mcontext.regs[29] = 0;	/* frame pointer */
	uc->uc_mcontext.regs[30] = 0;	/* link register */
	uc->uc_mcontext.pc = (uintptr_t) target;
#endif
}

/* Not ours: whatever would have happened without this handler happens. */
static void
forward(int signo, siginfo_t *info, void *context)
{
	if (previous_segv.sa_flags & SA_SIGINFO)
	{
		previous_segv.sa_sigaction(signo, info, context);
		return;
	}
	if (previous_segv.sa_handler != SIG_DFL && previous_segv.sa_handler != SIG_IGN)
	{
		previous_segv.sa_handler(signo);
		return;
	}
	/* back to the default action; a fault repeats when the instruction does */
	sigaction(signo, &previous_segv, NULL);
	if (info->si_code <= 0)
		raise(signo);
}

static void
segv_handler(int signo, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	char	   *frame = plrust_active_frame;

	if (frame != NULL && stack_floor != 0 &&
		(near_floor((uintptr_t) info->si_addr) || near_floor(interrupted_sp(uc))))
	{
		/* a fault while reporting this one is a real crash */
		plrust_active_frame = NULL;
		overflowed_fn = plrust_active_fn;
		resume_in(uc, report_overflow, (uintptr_t) frame - RESUME_GAP);
		return;
	}
	forward(signo, info, context);
}

void
plrust_fault_init(void)
{
	pthread_attr_t attr;
	void	   *addr;
	size_t		size;
	stack_t		current;
	struct sigaction action;

	/* glibc derives the main thread's stack from its mapping and RLIMIT_STACK */
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0)
		stack_floor = (uintptr_t) addr;
	pthread_attr_destroy(&attr);
	if (stack_floor == 0)
		return;

	if (sigaltstack(NULL, &current) != 0)
		return;
	if (current.ss_flags & SS_DISABLE)
	{
		stack_t		alt;

		alt.ss_sp = malloc(ALT_STACK_SIZE);
		alt.ss_size = ALT_STACK_SIZE;
		alt.ss_flags = 0;
		if (alt.ss_sp == NULL || sigaltstack(&alt, NULL) != 0)
		{
			free(alt.ss_sp);
			stack_floor = 0;
			return;
		}
	}

	memset(&action, 0, sizeof(action));
	action.sa_sigaction = segv_handler;
	action.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGSEGV, &action, &previous_segv) != 0)
		stack_floor = 0;
}

/* ---- the backstop for code that never reaches a checkpoint ---- */

/* How often the tick looks while a call runs, and how long a request may stay unanswered. */
#define TICK_MS 250
#define GRACE_MS 1000
/* Stack for the step between the signal handler's frames and the report's. */
#define HOP_STACK_SIZE ((Size) 32 * 1024)
/* Room the report gets above the abandoned frames' lowest possible address. */
#define REPORT_STACK_SIZE ((Size) 1024 * 1024)

typedef enum UnansweredRequest
{
	REQUEST_CANCEL,
	REQUEST_STATEMENT_TIMEOUT,
	REQUEST_TERMINATE
} UnansweredRequest;

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

/* What the report needs, set just before leaving the Rust frames. */
static PlrustFunction *escaped_fn = NULL;
static char *escaped_frame = NULL;
static UnansweredRequest escaped_request;
static int	escaped_after_ms;
static bool escaped_from_signal;
static ucontext_t hop_context;
static ucontext_t report_context;
static char hop_stack[HOP_STACK_SIZE] pg_attribute_aligned(16);

pg_noreturn static void
report_unanswered(void)
{
	PlrustFunction *fn = escaped_fn;
	const char *name = fn != NULL ? fn->def->name : "?";
	const char *what;

	/* handle_sig_alarm held interrupts and never got to resume them */
	if (escaped_from_signal && InterruptHoldoffCount > 0)
		InterruptHoldoffCount--;
	plrust_skip_library_destructors();
	switch (escaped_request)
	{
		case REQUEST_TERMINATE:
			what = "the request to terminate the session";
			break;
		case REQUEST_STATEMENT_TIMEOUT:
			what = "the statement timeout";
			break;
		default:
			what = "the cancel request";
			break;
	}
	ereport(FATAL,
			(errcode(escaped_request == REQUEST_TERMINATE ? ERRCODE_ADMIN_SHUTDOWN : ERRCODE_QUERY_CANCELED),
			 errmsg("PL/Rust function \"%s\" did not respond to %s", name, what),
			 errdetail("It was still running at least %d ms after the request, in code that never checks for one "
					   "(a loop inside the Rust standard library). It was stopped where it was, so its state "
					   "cannot be trusted and this session ends; the server and other sessions are not affected.",
					   escaped_after_ms)));
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
	uintptr_t	top = ((uintptr_t) escaped_frame - RESUME_GAP) & ~(uintptr_t) 15;
	Size		size = REPORT_STACK_SIZE;

	if (stack_floor != 0 && top > stack_floor && top - stack_floor < size)
		size = top - stack_floor;
	if (getcontext(&report_context) != 0)
		_exit(1);
	report_context.uc_stack.ss_sp = (void *) (top - size);
	report_context.uc_stack.ss_size = size;
	report_context.uc_link = NULL;
	sigdelset(&report_context.uc_sigmask, SIGALRM);
	makecontext(&report_context, report_unanswered, 0);
	setcontext(&report_context);
	_exit(1);					/* setcontext returns only on failure */
}

/*
 * Leaves the Rust frames for good. Two steps, because the frames of the
 * signal handler (or callback) running this may lie just below the call
 * site, where the report's stack begins.
 */
pg_noreturn static void
escape(bool from_signal)
{
	escaped_fn = plrust_active_fn;
	escaped_frame = plrust_active_frame;
	escaped_from_signal = from_signal;
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

void
plrust_escape_deferred_now(void)
{
	if (plrust_active_frame != NULL && !proc_exit_inprogress)
		escape(false);
	plrust_escape_deferred = false;
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

/*
 * The timeout handler (inside PostgreSQL's SIGALRM handler). Between calls
 * it does nothing and is not re-armed, so an idle session gets no more
 * ticks; the next call arms it again.
 */
static void
tick(void)
{
	TimestampTz now;
	TimestampTz since;

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
		plrust_unanswered_since = now;
	else if (now - since >= (TimestampTz) GRACE_MS * 1000)
	{
		escaped_after_ms = (int) ((now - since) / 1000);
		escaped_request = ProcDiePending ? REQUEST_TERMINATE
			: get_timeout_indicator(STATEMENT_TIMEOUT, false) ? REQUEST_STATEMENT_TIMEOUT
			: REQUEST_CANCEL;
		if (plrust_in_host == 0)
			escape(true);
		plrust_escape_deferred = true;
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

/* ---- interruptible sleep ---- */

static bool
sleep_should_end(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

static void
add_ns(struct timespec *t, const struct timespec *d)
{
	if (t->tv_sec > LONG_MAX - d->tv_sec - 1)
	{
		t->tv_sec = LONG_MAX;	/* saturate: "forever" */
		t->tv_nsec = NS_PER_S - 1;
		return;
	}
	t->tv_sec += d->tv_sec;
	t->tv_nsec += d->tv_nsec;
	if (t->tv_nsec >= NS_PER_S)
	{
		t->tv_sec++;
		t->tv_nsec -= NS_PER_S;
	}
}

/*
 * clock_nanosleep as function code sees it: the same results, except that
 * the sleep ends early, reporting success, once PostgreSQL has a cancel or
 * terminate request pending. Never throws: Rust frames are below.
 */
static int
interruptible_clock_nanosleep(clockid_t clock, int flags, const struct timespec *request,
							  struct timespec *remain)
{
	struct timespec deadline;

	if (request == NULL || request->tv_sec < 0 || request->tv_nsec < 0 || request->tv_nsec >= NS_PER_S)
		return clock_nanosleep(clock, flags, request, remain);	/* libc reports the error */
	if (flags & TIMER_ABSTIME)
		deadline = *request;
	else
	{
		if (clock_gettime(clock, &deadline) != 0)
			return errno;
		add_ns(&deadline, request);
	}

	for (;;)
	{
		struct timespec now;
		struct timespec slice;
		int			rc;

		if (sleep_should_end())
			return 0;
		if (clock_gettime(clock, &now) != 0)
			return errno;
		if (now.tv_sec > deadline.tv_sec ||
			(now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
			return 0;
		slice.tv_sec = deadline.tv_sec - now.tv_sec;
		slice.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (slice.tv_nsec < 0)
		{
			slice.tv_sec--;
			slice.tv_nsec += NS_PER_S;
		}
		if (slice.tv_sec > 0 || slice.tv_nsec > SLEEP_SLICE_NS)
		{
			slice.tv_sec = 0;
			slice.tv_nsec = SLEEP_SLICE_NS;
		}
		rc = clock_nanosleep(clock, 0, &slice, NULL);
		if (rc != 0 && rc != EINTR)
			return rc;
	}
}

typedef struct RelroSearch
{
	ElfW(Addr)	base;
	uintptr_t	start;			/* the pages the loader made read-only */
	uintptr_t	end;
} RelroSearch;

static int
find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
	RelroSearch *s = arg;
	long		page = sysconf(_SC_PAGESIZE);
	int			i;

	if (info->dlpi_addr != s->base)
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++)
	{
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_GNU_RELRO)
		{
			/* rounded as ld.so rounds it when it protects the segment */
			s->start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t) (page - 1);
			s->end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t) (page - 1);
		}
	}
	return 1;
}

static void
write_slot(const struct link_map *lm, uintptr_t slot, uintptr_t value, const PlrustDef *def)
{
	long		page_size = sysconf(_SC_PAGESIZE);
	uintptr_t	page = slot & ~(uintptr_t) (page_size - 1);
	RelroSearch relro = {.base = lm->l_addr,.start = 0,.end = 0};
	bool		read_only;

	dl_iterate_phdr(find_relro, &relro);
	read_only = page >= relro.start && page < relro.end;
	if (read_only && mprotect((void *) page, page_size, PROT_READ | PROT_WRITE) != 0)
		ereport(ERROR,
				(errmsg("could not prepare the library of PL/Rust function \"%s\": %m", def->name)));
	*(uintptr_t *) slot = value;
	if (read_only && mprotect((void *) page, page_size, PROT_READ) != 0)
		ereport(ERROR,
				(errmsg("could not prepare the library of PL/Rust function \"%s\": %m", def->name)));
}

/* ld.so adjusts these entries by the load address in place; be safe if it did not. */
static inline uintptr_t
dyn_address(const struct link_map *lm, ElfW(Addr) value)
{
	return value < lm->l_addr ? lm->l_addr + value : value;
}

void
plrust_interpose_sleep(void *dl_handle, const PlrustDef *def)
{
	struct link_map *lm = NULL;
	const ElfW(Dyn) *d;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	Size		strsz = 0;
	const ElfW(Rela) *tables[2] = {NULL, NULL};
	Size		sizes[2] = {0, 0};
	bool		plt_is_rela = true;
	int			t;

	if (dlinfo(dl_handle, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL)
		ereport(ERROR,
				(errmsg("could not inspect the library of PL/Rust function \"%s\"", def->name)));

	for (d = lm->l_ld; d->d_tag != DT_NULL; d++)
	{
		switch (d->d_tag)
		{
			case DT_SYMTAB:
				symtab = (const ElfW(Sym) *) dyn_address(lm, d->d_un.d_ptr);
				break;
			case DT_STRTAB:
				strtab = (const char *) dyn_address(lm, d->d_un.d_ptr);
				break;
			case DT_STRSZ:
				strsz = d->d_un.d_val;
				break;
			case DT_RELA:
				tables[0] = (const ElfW(Rela) *) dyn_address(lm, d->d_un.d_ptr);
				break;
			case DT_RELASZ:
				sizes[0] = d->d_un.d_val;
				break;
			case DT_JMPREL:
				tables[1] = (const ElfW(Rela) *) dyn_address(lm, d->d_un.d_ptr);
				break;
			case DT_PLTRELSZ:
				sizes[1] = d->d_un.d_val;
				break;
			case DT_PLTREL:
				plt_is_rela = d->d_un.d_val == DT_RELA;
				break;
		}
	}
	if (symtab == NULL || strtab == NULL)
		return;
	if (!plt_is_rela)
		tables[1] = NULL;		/* never produced for x86_64 or aarch64 */

	/* GLOB_DAT (calls through the GOT), JUMP_SLOT (through the PLT), plain 64-bit words */
	for (t = 0; t < 2; t++)
	{
		Size		i;

		if (tables[t] == NULL)
			continue;
		for (i = 0; i < sizes[t] / sizeof(ElfW(Rela)); i++)
		{
			const ElfW(Rela) *r = &tables[t][i];
			Size		sym = ELF64_R_SYM(r->r_info);
			Size		name;

			if (sym == 0)
				continue;
			name = symtab[sym].st_name;
			if (name >= strsz || strcmp(strtab + name, "clock_nanosleep") != 0)
				continue;
			write_slot(lm, lm->l_addr + r->r_offset,
					   (uintptr_t) interruptible_clock_nanosleep + r->r_addend, def);
		}
	}
}

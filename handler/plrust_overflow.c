/*
 * plrust_overflow.c — a stack overflow outside checkpoints
 * (docs/TRUST.md, "Run-time faults").
 *
 * Checkpoints compare the stack with max_stack_depth at every function and
 * loop entry of user code, but code the compiler generates (the drop of a
 * deeply nested Box list, say, or the stack probes of a frame larger than
 * the stack left) has none and can run into the end of the stack. The
 * backend would die on SIGSEGV and the postmaster would end every session
 * and run crash recovery. A SIGSEGV handler on an alternate signal stack
 * recognises a fault at the end of the stack during a PL/Rust call and
 * resumes the backend, on the stack above the abandoned Rust frames, in the
 * escape report (plrust_escape.c). PostgreSQL's state is intact, because
 * the allocation callbacks refuse to run without stack room
 * (plrust_memory.c) and function code calls nothing else of PostgreSQL.
 */
#include "plrust.h"

#include <pthread.h>
#include <signal.h>
#include <ucontext.h>

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

static uintptr_t stack_floor = 0;
static struct sigaction previous_segv;

uintptr_t
plrust_stack_floor(void)
{
	return stack_floor;
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

static inline uintptr_t
interrupted_pc(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t) uc->uc_mcontext.gregs[REG_RIP];
#else
	return (uintptr_t) uc->uc_mcontext.pc;
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
		PlrustEscape *e = &plrust_escape_state;

		e->fault = PLRUST_FAULT_OVERFLOW;
		e->fn = plrust_active_fn;
		e->frame = frame;
		e->in_library = plrust_pc_in_library(interrupted_pc(uc));
		e->from_sigalrm = false;
		/* a fault while reporting this one is a real crash */
		plrust_active_frame = NULL;
		resume_in(uc, plrust_escape_report, (uintptr_t) frame - PLRUST_RESUME_GAP);
		return;
	}
	forward(signo, info, context);
}

void
plrust_overflow_init(void)
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

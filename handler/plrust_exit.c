/*
 * plrust_exit.c — the end of a backend that has loaded function libraries.
 *
 * PostgreSQL's cleanup (proc_exit: shared memory, locks, the backend's slot)
 * runs first; then exit() runs the process's exit-time work: thread-local
 * destructors, atexit handlers, the finalisers of every loaded library. By
 * then the session has given back its slot, so the process is invisible to
 * pg_stat_activity and pg_terminate_backend and ignores SIGTERM, yet the
 * postmaster still counts it as a child: one that lingered would hold a
 * connection nobody can see, and a fast shutdown would wait for it forever.
 *
 * The libraries' own routes to exit-time work are closed where they are
 * loaded (plrust_interpose.c; their imports are checked before loading).
 * This is the deadline behind that: once PostgreSQL's cleanup is done, the
 * process ends within EXIT_DEADLINE_MS whatever still runs, with the exit
 * status proc_exit was given, so the postmaster sees an ordinary exit.
 */
#include "plrust.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "storage/ipc.h"

#define EXIT_DEADLINE_MS 500

static volatile sig_atomic_t exit_status = 1;

static void
deadline_reached(int signo)
{
	_exit(exit_status);
}

/*
 * An on_proc_exit callback: after shmem_exit, before the process's exit
 * handlers. SIGALRM is PostgreSQL's timeout signal; its timeouts are over.
 */
static void
arm_exit_deadline(int code, Datum arg)
{
	struct sigaction action;
	struct itimerval timer;
	sigset_t	alarm_only;

	exit_status = code;
	memset(&action, 0, sizeof(action));
	action.sa_handler = deadline_reached;
	sigfillset(&action.sa_mask);
	if (sigaction(SIGALRM, &action, NULL) != 0)
		_exit(code);
	memset(&timer, 0, sizeof(timer));
	timer.it_value.tv_sec = EXIT_DEADLINE_MS / 1000;
	timer.it_value.tv_usec = (EXIT_DEADLINE_MS % 1000) * 1000;
	if (setitimer(ITIMER_REAL, &timer, NULL) != 0)
		_exit(code);
	sigemptyset(&alarm_only);
	sigaddset(&alarm_only, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
}

void
plrust_exit_deadline_register(void)
{
	static bool registered = false;

	if (registered || proc_exit_inprogress)
		return;
	registered = true;
	on_proc_exit(arm_exit_deadline, (Datum) 0);
}

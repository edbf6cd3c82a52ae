/*
 * plrust_runner.c — the process that runs PL/Rust function code in process
 * isolation (docs/ISOLATION.md). A backend starts it through bubblewrap
 * (plrust_isolation.c), with an empty file system apart from the C library
 * it runs on, no network and no privileges; it confines itself further
 * (resource limits, a seccomp filter) before it loads any function
 * library, then serves the backend's commands from the shared region
 * (plrust_isolation.h) until the backend goes away.
 *
 * It is the host of the libraries it loads: the ABI's callbacks are
 * implemented here, host requests are forwarded to the backend as bytes.
 * Nothing in this process is trusted by the backend, which checks what it
 * reads back; a fault here ends this process only.
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "plrust_abi.h"
#include "plrust_isolation.h"

#define MAX_LIBS 4096
#define STACK_MARGIN ((uint64_t) 64 * 1024)
#define SPIN_MAX_NS 100000
#define SPIN_MIN_NS 2000

typedef struct Lib
{
	uint32_t	id;
	int			fd;
	void	   *handle;
	plrust_call_fn call;
	PlrustHost	host;
} Lib;

static char *region;
static PlrustIsoHeader *hdr;
static Lib *libs;
static int nlibs;
static uint64_t held;
static uintptr_t stack_top;
static uint64_t stack_max;

/* The innermost call in progress: where its data starts and its input ends. */
static uint64_t cur_base;
static uint64_t cur_top;

static void dispatch(void);

/* ---- handshake ---- */

/*
 * Until the state is a or b: a short spin (calls often come in a row), then
 * the futex. The spin adapts: a spin that ended in the futex halves the
 * next one, a spin that saw the answer doubles it, so on a machine whose
 * cores are all busy the spin does not keep the other side off its core.
 */
static uint32_t
await_state(uint32_t a, uint32_t b)
{
	static uint64_t spin_ns = SPIN_MAX_NS;
	uint64_t	start = plrust_iso_now_ns();
	uint32_t	s;

	for (;;)
	{
		s = __atomic_load_n(&hdr->state, __ATOMIC_SEQ_CST);
		if (s == a || s == b)
		{
			spin_ns = spin_ns * 2 < SPIN_MAX_NS ? spin_ns * 2 : SPIN_MAX_NS;
			return s;
		}
		if (plrust_iso_now_ns() - start > spin_ns)
		{
			spin_ns = spin_ns / 2 > SPIN_MIN_NS ? spin_ns / 2 : SPIN_MIN_NS;
			break;
		}
#if defined(__x86_64__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ volatile("yield");
#endif
	}
	for (;;)
	{
		__atomic_store_n(&hdr->sleeping[1], 1, __ATOMIC_SEQ_CST);
		s = __atomic_load_n(&hdr->state, __ATOMIC_SEQ_CST);
		if (s != a && s != b)
			syscall(SYS_futex, &hdr->state, FUTEX_WAIT, s, NULL, NULL, 0);
		__atomic_store_n(&hdr->sleeping[1], 0, __ATOMIC_SEQ_CST);
		s = __atomic_load_n(&hdr->state, __ATOMIC_SEQ_CST);
		if (s == a || s == b)
			return s;
	}
}

/* ---- host callbacks ---- */

static void *
host_alloc(void *ctx, size_t size, size_t align)
{
	void	   *p = NULL;

	(void) ctx;
	if (hdr->memory_limit != 0 && (held + size < held || held + size > hdr->memory_limit))
	{
		hdr->limit_hit = 1;
		hdr->refused_size = size;
		return NULL;
	}
	if (align <= 16)
		p = malloc(size);
	else if (posix_memalign(&p, align, size) != 0)
		p = NULL;
	if (p == NULL)
		hdr->refused_size = size;
	else
		held += size;
	return p;
}

static void
host_dealloc(void *ctx, void *ptr, size_t size, size_t align)
{
	(void) ctx;
	(void) align;
	if (ptr == NULL)
		return;
	free(ptr);
	held -= size <= held ? size : held;
}

static void *
host_realloc(void *ctx, void *ptr, size_t old_size, size_t align, size_t new_size)
{
	void	   *p;

	if (new_size > old_size && hdr->memory_limit != 0 &&
		(held + (new_size - old_size) < held || held + (new_size - old_size) > hdr->memory_limit))
	{
		hdr->limit_hit = 1;
		hdr->refused_size = new_size;
		return NULL;
	}
	if (align <= 16)
	{
		p = realloc(ptr, new_size);
		if (p == NULL)
		{
			hdr->refused_size = new_size;
			return NULL;
		}
		held = held - (old_size <= held ? old_size : held) + new_size;
		return p;
	}
	p = host_alloc(ctx, new_size, align);
	if (p == NULL)
		return NULL;
	memcpy(p, ptr, old_size < new_size ? old_size : new_size);
	host_dealloc(ctx, ptr, old_size, align);
	return p;
}

static int32_t
host_interrupt_requested(void *ctx)
{
	(void) ctx;
	return __atomic_load_n(&hdr->interrupt, __ATOMIC_SEQ_CST) != 0;
}

/*
 * The message goes to the backend as bytes after the current call's input;
 * the backend answers in place. Commands the backend sends meanwhile (a
 * PL/Rust function called by the request) run nested, above it.
 */
static int32_t
host_request(void *ctx, const uint8_t *msg, size_t len, PlrustSlice *reply)
{
	uint64_t	off = plrust_iso_pad8(cur_top);
	uint64_t	saved_base = cur_base;
	uint64_t	saved_top = cur_top;
	void	   *copy;

	reply->ptr = NULL;
	reply->len = 0;
	if (len > PLRUST_ISO_REGION_SIZE - off)
		return 1;
	memcpy(region + off, msg, len);
	hdr->req_off = off;
	hdr->req_len = len;
	plrust_iso_post(hdr, PLRUST_ISO_REQUEST, 0);
	while (await_state(PLRUST_ISO_REPLY, PLRUST_ISO_COMMAND) == PLRUST_ISO_COMMAND)
	{
		dispatch();
		cur_base = saved_base;
		cur_top = saved_top;
		plrust_iso_post(hdr, PLRUST_ISO_DONE, 0);
	}
	len = hdr->req_len;
	if (len > PLRUST_ISO_REGION_SIZE - off)
		len = 0;
	if (len > 0)
	{
		copy = host_alloc(ctx, len, 1);
		if (copy == NULL)
			return 1;
		memcpy(copy, region + off, len);
		reply->ptr = copy;
		reply->len = len;
	}
	return hdr->req_status;
}

/* ---- encoding ---- */

static uint64_t
put_bytes(uint64_t off, const void *ptr, size_t len)
{
	uint64_t	n = len;

	if (off + 8 + plrust_iso_pad8(len) > PLRUST_ISO_REGION_SIZE)
		return 0;
	memcpy(region + off, &n, 8);
	if (len > 0)
		memcpy(region + off + 8, ptr, len);
	return off + 8 + plrust_iso_pad8(len);
}

/* Encodes v at off; returns the offset after it, 0 when it does not fit or nests too deep. */
static uint64_t
encode(const PlrustValue *v, uint64_t off, int depth)
{
	PlrustIsoCell cell = {.is_null = v->is_null, .shape = v->shape};
	uint64_t	next = off + sizeof(cell);
	size_t		i;

	if (depth > PLRUST_ISO_MAX_DEPTH || next > PLRUST_ISO_REGION_SIZE)
		return 0;
	if (!v->is_null && v->shape == PLRUST_SHAPE_BYTES)
	{
		cell.a = v->v.bytes.len;
		if (plrust_iso_pad8(cell.a) > PLRUST_ISO_REGION_SIZE - next)
			return 0;
		if (cell.a > 0)
			memcpy(region + next, v->v.bytes.ptr, cell.a);
		next += plrust_iso_pad8(cell.a);
	}
	else if (!v->is_null && v->shape == PLRUST_SHAPE_ARRAY)
	{
		const PlrustValue *elems = v->v.array.ptr;

		cell.a = v->v.array.len;
		for (i = 0; i < cell.a && next != 0; i++)
			next = encode(&elems[i], next, depth + 1);
		if (next == 0)
			return 0;
	}
	else if (!v->is_null)
		memcpy(&cell.a, &v->v, 8);
	memcpy(region + off, &cell, sizeof(cell));
	return next;
}

/* The results' buffers are the host's, that is ours, once handed over. */
static void
release(const PlrustValue *v)
{
	size_t		i;

	if (v->is_null)
		return;
	if (v->shape == PLRUST_SHAPE_BYTES && v->v.bytes.len > 0)
		host_dealloc(NULL, (void *) v->v.bytes.ptr, v->v.bytes.len, 1);
	else if (v->shape == PLRUST_SHAPE_ARRAY && v->v.array.ptr != NULL)
	{
		const PlrustValue *elems = v->v.array.ptr;

		for (i = 0; i < v->v.array.len; i++)
			release(&elems[i]);
		host_dealloc(NULL, (void *) elems, v->v.array.len * sizeof(PlrustValue), 8);
	}
}

/* Arguments point into the region: the backend keeps them there until the call returns. */
static uint64_t
decode(PlrustValue *v, uint64_t off, int depth)
{
	PlrustIsoCell cell;
	uint64_t	next = off + sizeof(cell);
	uint64_t	i;

	memcpy(&cell, region + off, sizeof(cell));
	memset(v, 0, sizeof(*v));
	v->is_null = cell.is_null;
	v->shape = cell.shape;
	if (cell.is_null)
		return next;
	if (cell.shape == PLRUST_SHAPE_BYTES)
	{
		v->v.bytes.ptr = cell.a > 0 ? region + next : NULL;
		v->v.bytes.len = cell.a;
		return next + plrust_iso_pad8(cell.a);
	}
	if (cell.shape == PLRUST_SHAPE_ARRAY)
	{
		PlrustValue *elems = cell.a > 0 ? calloc(cell.a, sizeof(PlrustValue)) : NULL;

		if (cell.a > 0 && elems == NULL)
			_exit(71);
		for (i = 0; i < cell.a; i++)
			next = decode(&elems[i], next, depth + 1);
		v->v.array.ptr = elems;
		v->v.array.len = cell.a;
		return next;
	}
	memcpy(&v->v, &cell.a, 8);
	return next;
}

static void
free_decoded(PlrustValue *v)
{
	uint64_t	i;

	if (!v->is_null && v->shape == PLRUST_SHAPE_ARRAY && v->v.array.ptr != NULL)
	{
		PlrustValue *elems = (PlrustValue *) v->v.array.ptr;

		for (i = 0; i < v->v.array.len; i++)
			free_decoded(&elems[i]);
		free(elems);
	}
}

/* ---- commands ---- */

static Lib *
find_lib(uint32_t id)
{
	int			i;

	for (i = 0; i < nlibs; i++)
		if (libs[i].id == id)
			return &libs[i];
	return NULL;
}

static void
fail(int32_t status, const char *message)
{
	hdr->status = status;
	hdr->out_len = put_bytes(cur_base, message, strlen(message)) - cur_base;
}

static int
receive_fd(void)
{
	char		data[8];
	char		control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = data,.iov_len = sizeof(data)};
	struct msghdr m = {.msg_iov = &iov,.msg_iovlen = 1,.msg_control = control,.msg_controllen = sizeof(control)};
	struct cmsghdr *c;
	int			fd;

	if (recvmsg(PLRUST_ISO_SOCKET_FD, &m, 0) <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * glibc knows a loaded library by its path, and /proc/self/fd/N names come
 * back as descriptors are reused: a name still taken moves the descriptor.
 */
static void *
open_library(int *fd)
{
	char		path[64];
	void	   *existing;
	int			attempt;

	for (attempt = 0; attempt < 64; attempt++)
	{
		int			next;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", *fd);
		existing = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
		if (existing == NULL)
			return dlopen(path, RTLD_NOW | RTLD_LOCAL);
		dlclose(existing);
		next = fcntl(*fd, F_DUPFD_CLOEXEC, *fd + 1);
		if (next < 0)
			return NULL;
		close(*fd);
		*fd = next;
	}
	return NULL;
}

static void
do_load(void)
{
	Lib		   *lib;
	int			fd = receive_fd();
	plrust_abi_version_fn abi_version;
	plrust_signature_fn signature;
	plrust_init_fn init;
	const char *sig;
	int32_t		status;

	if (fd < 0)
		return fail(PLRUST_ISO_LOAD_FAILED, "the library's descriptor did not arrive");
	if (nlibs == MAX_LIBS)
	{
		close(fd);
		return fail(PLRUST_ISO_LOAD_FAILED, "too many libraries loaded in one process");
	}
	lib = &libs[nlibs];
	memset(lib, 0, sizeof(*lib));
	lib->id = hdr->lib;
	lib->handle = open_library(&fd);
	lib->fd = fd;
	if (lib->handle == NULL)
	{
		const char *why = dlerror();

		close(fd);
		return fail(PLRUST_ISO_LOAD_FAILED, why != NULL ? why : "dlopen failed");
	}
	abi_version = (plrust_abi_version_fn) dlsym(lib->handle, PLRUST_SYM_ABI_VERSION);
	signature = (plrust_signature_fn) dlsym(lib->handle, PLRUST_SYM_SIGNATURE);
	init = (plrust_init_fn) dlsym(lib->handle, PLRUST_SYM_INIT);
	lib->call = (plrust_call_fn) dlsym(lib->handle, PLRUST_SYM_CALL);
	if (abi_version == NULL || signature == NULL || init == NULL || lib->call == NULL)
	{
		dlclose(lib->handle);
		close(fd);
		return fail(PLRUST_ISO_LOAD_FAILED, "the library does not export the four symbols of the ABI");
	}
	if (abi_version() != PLRUST_ABI_VERSION)
	{
		char		why[96];

		snprintf(why, sizeof(why), "the library reports ABI version %u, this runner speaks version %d",
				 abi_version(), PLRUST_ABI_VERSION);
		dlclose(lib->handle);
		close(fd);
		return fail(PLRUST_ISO_LOAD_FAILED, why);
	}
	lib->host.abi_version = PLRUST_ABI_VERSION;
	lib->host.alloc = host_alloc;
	lib->host.dealloc = host_dealloc;
	lib->host.realloc = host_realloc;
	lib->host.interrupt_flag = &hdr->interrupt;
	lib->host.interrupt_requested = host_interrupt_requested;
	lib->host.request = host_request;
	status = init(&lib->host);
	if (status != PLRUST_OK)
	{
		dlclose(lib->handle);
		close(fd);
		return fail(status, "plrust_init failed");
	}
	nlibs++;
	sig = signature();
	hdr->status = PLRUST_OK;
	hdr->out_len = put_bytes(cur_base, sig, strnlen(sig, 1 << 20)) - cur_base;
}

static void
do_unload(void)
{
	Lib		   *lib = find_lib(hdr->lib);

	hdr->status = PLRUST_OK;
	hdr->out_len = 0;
	if (lib == NULL)
		return;
	dlclose(lib->handle);
	close(lib->fd);
	*lib = libs[--nlibs];
}

static uintptr_t
stack_limit(uint64_t depth)
{
	uint64_t	usable = depth < stack_max ? depth : stack_max;

	return usable > STACK_MARGIN ? stack_top - (usable - STACK_MARGIN) : stack_top;
}

static void
do_call(void)
{
	Lib		   *lib = find_lib(hdr->lib);
	uint32_t	nargs = hdr->nargs;
	PlrustValue *args;
	PlrustValue result;
	PlrustError error;
	uint64_t	off = cur_base;
	uint32_t	i;
	int32_t		status;

	if (lib == NULL)
		return fail(PLRUST_NOT_INITIALIZED, "the library is not loaded in this process");
	args = calloc(nargs > 0 ? nargs : 1, sizeof(PlrustValue));
	if (args == NULL)
		_exit(71);
	for (i = 0; i < nargs; i++)
		off = decode(&args[i], off, 0);
	cur_top = off;
	lib->host.stack_limit = stack_limit(hdr->stack_depth);
	hdr->limit_hit = 0;
	hdr->refused_size = 0;
	memset(&result, 0, sizeof(result));
	memset(&error, 0, sizeof(error));

	status = lib->call(args, nargs, &result, &error);

	for (i = 0; i < nargs; i++)
		free_decoded(&args[i]);
	free(args);
	hdr->status = status;
	if (status == PLRUST_OK)
	{
		uint64_t	end = encode(&result, cur_base, 0);

		release(&result);
		if (end == 0)
			return fail(PLRUST_ISO_LOAD_FAILED, "the result does not fit the shared region");
		hdr->out_len = end - cur_base;
		return;
	}
	off = put_bytes(cur_base, error.message.ptr, error.message.len);
	off = put_bytes(off, error.location.ptr, error.location.len);
	hdr->out_len = off - cur_base;
	if (status != PLRUST_OOM && status != PLRUST_NOT_INITIALIZED)
	{
		host_dealloc(NULL, (void *) error.message.ptr, error.message.len, 1);
		host_dealloc(NULL, (void *) error.location.ptr, error.location.len, 1);
	}
}

static void
dispatch(void)
{
	cur_base = hdr->base;
	cur_top = hdr->base;
	switch (hdr->op)
	{
		case PLRUST_ISO_OP_LOAD:
			do_load();
			break;
		case PLRUST_ISO_OP_CALL:
			do_call();
			break;
		case PLRUST_ISO_OP_UNLOAD:
			do_unload();
			break;
		default:
			fail(PLRUST_ISO_LOAD_FAILED, "unknown command");
	}
}

/*
 * Rust's abort path: the library's runtime state is broken, so is this
 * process's. Report, and end: the backend starts a fresh runner.
 */
void
plrust_host_fatal(const uint8_t *msg, size_t len)
{
	fail(PLRUST_ISO_FATAL, "");
	hdr->out_len = put_bytes(cur_base, msg, len > 4096 ? 4096 : len) - cur_base;
	plrust_iso_post(hdr, PLRUST_ISO_DONE, 0);
	_exit(70);
}

/* ---- confinement ---- */

/*
 * A fault at the stack pointer, at or beyond the lowest address the stack
 * may reach, is a stack overflow: said so by the exit status. Any other is
 * left to kill the process: SA_RESETHAND has restored the default action,
 * and the faulting instruction runs again.
 */
static void
on_fault(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;
	uintptr_t	addr = (uintptr_t) info->si_addr;
	uintptr_t	floor = stack_top - stack_max;
#if defined(__x86_64__)
	uintptr_t	sp = (uintptr_t) uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	uintptr_t	sp = (uintptr_t) uc->uc_mcontext.sp;
#endif
	uintptr_t	near = 64 * 1024;

	if (sig == SIGSEGV && addr < floor + near && addr + near > sp && addr < sp + near)
		_exit(PLRUST_ISO_EXIT_OVERFLOW);
}

static int
watch_faults(void)
{
	static char alt[64 * 1024];
	stack_t		ss = {.ss_sp = alt,.ss_size = sizeof(alt)};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
	return sigaltstack(&ss, NULL) != 0 || sigaction(SIGSEGV, &sa, NULL) != 0 ? -1 : 0;
}

static int
allow(scmp_filter_ctx f, int nr)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
}

/*
 * What glibc's loader, malloc and the restricted std need, and the
 * handshake. Files can only be opened for reading (the libraries, through
 * /proc/self/fd) and the only other descriptor I/O is receiving them.
 */
static int
confine_syscalls(void)
{
	static const int plain[] = {
		SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(lseek), SCMP_SYS(close),
		SCMP_SYS(fstat), SCMP_SYS(newfstatat),
		SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(brk),
		SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
		SCMP_SYS(gettimeofday), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(sched_yield),
		SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(sigaltstack), SCMP_SYS(exit), SCMP_SYS(exit_group),
	};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	size_t		i;
	int			rc = f == NULL ? -1 : 0;

	for (i = 0; rc == 0 && i < sizeof(plain) / sizeof(plain[0]); i++)
		rc = allow(f, plain[i]);
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
							  SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE, O_RDONLY));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
							  SCMP_A0(SCMP_CMP_EQ, PLRUST_ISO_SOCKET_FD));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC));
	if (rc == 0)
		rc = seccomp_load(f);
	if (f != NULL)
		seccomp_release(f);
	return rc;
}

static void
limit(int resource, rlim_t value)
{
	struct rlimit r = {.rlim_cur = value,.rlim_max = value};

	if (setrlimit(resource, &r) != 0)
		_exit(65);
}

int
main(int argc, char **argv)
{
	char		here;
	struct rlimit stack;
	unsigned long long data_limit;
	void	   *map;

	stack_top = (uintptr_t) &here;
	if (argc != 2 || sscanf(argv[1], "%llu", &data_limit) != 1)
		return 64;
	/* nothing of the backend but the two descriptors it meant to give */
	if (syscall(SYS_close_range, PLRUST_ISO_REGION_FD + 1, ~0U, 0) != 0)
		return 65;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		prctl(PR_SET_DUMPABLE, 0) != 0)
		return 65;
	if (getrlimit(RLIMIT_STACK, &stack) != 0)
		return 65;
	stack_max = stack.rlim_cur == RLIM_INFINITY ? (uint64_t) 8 << 20 : (uint64_t) stack.rlim_cur;
	map = mmap(NULL, PLRUST_ISO_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, PLRUST_ISO_REGION_FD, 0);
	if (map == MAP_FAILED)
		return 66;
	close(PLRUST_ISO_REGION_FD);
	region = map;
	hdr = map;
	libs = calloc(MAX_LIBS, sizeof(Lib));
	if (libs == NULL)
		return 71;

	limit(RLIMIT_CORE, 0);
	limit(RLIMIT_FSIZE, 0);
	limit(RLIMIT_NOFILE, MAX_LIBS + 16);
	limit(RLIMIT_NPROC, 0);
	if (data_limit > 0)
		limit(RLIMIT_DATA, (rlim_t) data_limit);
	if (watch_faults() != 0 || confine_syscalls() != 0)
		return 67;

	plrust_iso_post(hdr, PLRUST_ISO_DONE, 0);		/* ready */
	for (;;)
	{
		await_state(PLRUST_ISO_COMMAND, PLRUST_ISO_COMMAND);
		dispatch();
		plrust_iso_post(hdr, PLRUST_ISO_DONE, 0);
	}
}

/*
 * plrust_isolation.h — what a backend and its runner (plrust_runner.c)
 * share in process isolation (docs/ISOLATION.md): the layout of the shared
 * memory region, the commands, and the encoding of value trees in it.
 *
 * One region per runner: a header page, then data. The `state` word is
 * the handshake and a futex: whoever posts a new state wakes the other side
 * only when it said it is asleep, so a call whose answer comes quickly
 * costs no system call at all.
 *
 * Values cross as a flat encoding of the ABI's shape-tagged trees (16-byte
 * cells, the data of a bytes value right after its cell, padded to 8, the
 * elements of an array after its cell), so neither side needs the SQL
 * types to copy them and no pointer of one process is ever used by the
 * other. The backend checks every length and offset the runner writes.
 */
#ifndef PLRUST_ISOLATION_H
#define PLRUST_ISOLATION_H

#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Descriptors the runner finds open: the control socket and the region. */
#define PLRUST_ISO_SOCKET_FD 3
#define PLRUST_ISO_REGION_FD 4

#define PLRUST_ISO_HEADER_SIZE 4096
/* Virtual size; tmpfs only allocates the pages either side touches. */
#define PLRUST_ISO_REGION_SIZE (((uint64_t) 1 << 30) + PLRUST_ISO_HEADER_SIZE)
#define PLRUST_ISO_MAX_DEPTH 16

/* state: who is to act next, and why */
#define PLRUST_ISO_IDLE 0		/* runner starting, or nothing to do */
#define PLRUST_ISO_COMMAND 1	/* backend -> runner: do op */
#define PLRUST_ISO_DONE 2		/* runner -> backend: op finished (status set) */
#define PLRUST_ISO_REQUEST 3	/* runner -> backend: forward a host request */
#define PLRUST_ISO_REPLY 4		/* backend -> runner: the request's reply */

/* op */
#define PLRUST_ISO_OP_LOAD 1	/* the library's memfd came over the socket */
#define PLRUST_ISO_OP_CALL 2
#define PLRUST_ISO_OP_UNLOAD 3

/* status of an op beyond the ABI's PLRUST_* codes */
#define PLRUST_ISO_FATAL 100	/* plrust_host_fatal: the runner exits after this */
#define PLRUST_ISO_LOAD_FAILED 101	/* message says why */

/* The runner's exit status after a fault at the end of its stack (SIGSEGV there). */
#define PLRUST_ISO_EXIT_OVERFLOW 72

typedef struct PlrustIsoHeader
{
	volatile uint32_t state;	/* futex word */
	volatile uint32_t sleeping[2];	/* [0] backend, [1] runner waits on the futex */
	volatile int32_t interrupt; /* the runtime's interrupt_flag: non-zero = cancel */
	uint32_t	op;
	uint32_t	lib;			/* the backend's id of the library */
	uint32_t	nargs;
	int32_t		status;
	uint64_t	base;			/* offset of this op's data in the region */
	uint64_t	stack_depth;	/* bytes function code may use (max_stack_depth) */
	uint64_t	memory_limit;	/* bytes function code may hold; 0 = no limit */
	uint64_t	limit_hit;		/* an allocation was refused at the limit */
	uint64_t	refused_size;
	uint64_t	out_len;		/* bytes of result (or error) data at base */
	uint64_t	req_off;		/* REQUEST/REPLY: where the message is */
	uint64_t	req_len;
	int32_t		req_status;
} PlrustIsoHeader;

/* One encoded value. plain: a = the scalar's 8 bytes; bytes: a = length; array: a = element count. */
typedef struct PlrustIsoCell
{
	uint8_t		is_null;
	uint8_t		shape;
	uint8_t		pad[6];
	uint64_t	a;
} PlrustIsoCell;

/*
 * After a CALL: status, then for PLRUST_OK the encoded result at base; for
 * other statuses two byte strings (message, location) each as a u64 length
 * and the bytes padded to 8. For LOAD: the library's signature as one byte
 * string, or the failure's message.
 */

static inline uint64_t
plrust_iso_pad8(uint64_t n)
{
	return (n + 7) & ~(uint64_t) 7;
}

/* Monotonic nanoseconds: the deadlines and spin budgets of both sides. */
static inline uint64_t
plrust_iso_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/*
 * Posts a new state for the other side; the futex wake, a system call, only
 * when `peer` (0 the backend, 1 the runner) said it sleeps.
 */
static inline void
plrust_iso_post(PlrustIsoHeader *hdr, uint32_t state, int peer)
{
	__atomic_store_n(&hdr->state, state, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&hdr->sleeping[peer], __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &hdr->state, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

#endif							/* PLRUST_ISOLATION_H */

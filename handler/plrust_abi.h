/*
 * plrust_abi.h — the C side of the PL/Rust function-library ABI.
 *
 * Shared by the PostgreSQL language handler and the C test host. The
 * authoritative description, with the reasons behind each rule, is
 * docs/ABI.md; any change here bumps PLRUST_ABI_VERSION and is made there too.
 */
#ifndef PLRUST_ABI_H
#define PLRUST_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLRUST_ABI_VERSION 2

/* Status codes returned by plrust_call (and plrust_init). */
#define PLRUST_OK               0   /* *result is set */
#define PLRUST_ERR              1   /* the function returned Err(e): message = e.to_string() */
#define PLRUST_PANIC            2   /* a panic: message and location */
#define PLRUST_CANCELED         3   /* a checkpoint saw a cancel request */
#define PLRUST_STACK_DEPTH      4   /* a checkpoint saw the stack limit */
#define PLRUST_OOM              5   /* an allocation failed (message is static: do not free) */
#define PLRUST_BAD_ARGS         6   /* nargs or an argument did not match the signature */
#define PLRUST_ABI_MISMATCH     7   /* from plrust_init */
#define PLRUST_NOT_INITIALIZED  8   /* plrust_call before a successful plrust_init (message is static) */

struct PlrustSlice;                  /* defined below; used by request */

typedef struct PlrustHost {
    uint32_t abi_version;            /* PLRUST_ABI_VERSION */
    uint32_t flags;                  /* reserved, 0 */
    void    *ctx;                    /* passed back to every callback */
    /* Allocation. Must never longjmp or abort: return NULL on failure. */
    void  *(*alloc)(void *ctx, size_t size, size_t align);
    void   (*dealloc)(void *ctx, void *ptr, size_t size, size_t align);
    void  *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t align, size_t new_size);
    /* Cancellation. *interrupt_flag is read (volatile) at every checkpoint;
       when non-zero, interrupt_requested() decides: non-zero = stop now.
       interrupt_flag NULL: no cancellation; interrupt_requested NULL:
       a non-zero flag alone cancels. */
    const volatile int32_t *interrupt_flag;
    int32_t (*interrupt_requested)(void *ctx);
    /* Stack depth: the lowest stack address function code may reach
       (stacks grow down on both targets). 0 disables the check. */
    uintptr_t stack_limit;
    /* One self-contained request to the backend (docs/ABI.md, Host requests):
       msg starts with a u32 op code; *reply is a host->alloc block the
       library releases. 0: normal reply, 1: error reply. Never longjmps. */
    int32_t (*request)(void *ctx, const uint8_t *msg, size_t len, struct PlrustSlice *reply);
} PlrustHost;

typedef struct PlrustSlice {
    const void *ptr;
    size_t      len;
} PlrustSlice;

/* Which union member a value uses, so a value tree can be copied without its SQL type. */
#define PLRUST_SHAPE_PLAIN 0         /* the 8-byte scalar members */
#define PLRUST_SHAPE_BYTES 1         /* bytes: a PlrustSlice of bytes */
#define PLRUST_SHAPE_ARRAY 2         /* array: a PlrustSlice of tagged PlrustValues */

typedef struct PlrustValue {
    uint8_t is_null;                 /* 1: SQL NULL, the union is unused */
    uint8_t shape;                   /* PLRUST_SHAPE_*, set by every producer */
    uint8_t _pad[6];
    union {
        uint8_t     b;               /* bool: 0 or 1 */
        int16_t     i16;             /* int2 */
        int32_t     i32;             /* int4 */
        int64_t     i64;             /* int8 */
        float       f32;             /* float4 */
        double      f64;             /* float8 */
        PlrustSlice bytes;           /* text/varchar (UTF-8, no NUL), bytea */
        PlrustSlice array;           /* T[]: ptr is PlrustValue[len] (elements may be NULL) */
    } v;
} PlrustValue;                       /* 24 bytes on both targets */

typedef struct PlrustError {
    PlrustSlice message;             /* UTF-8 */
    PlrustSlice location;            /* "file:line:col" in the user's source, or empty */
} PlrustError;

/* Exported by every function library. */
typedef uint32_t    (*plrust_abi_version_fn)(void);
typedef const char *(*plrust_signature_fn)(void);
typedef int32_t     (*plrust_init_fn)(const PlrustHost *host);
typedef int32_t     (*plrust_call_fn)(const PlrustValue *args, uint32_t nargs,
                                      PlrustValue *result, PlrustError *error);

#define PLRUST_SYM_ABI_VERSION "plrust_abi_version"
#define PLRUST_SYM_SIGNATURE   "plrust_signature"
#define PLRUST_SYM_INIT        "plrust_init"
#define PLRUST_SYM_CALL        "plrust_call"

/* Imported by every function library: the host must export it. Never returns. */
extern void plrust_host_fatal(const uint8_t *msg, size_t len);

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(PlrustValue) == 24, "PlrustValue must be 24 bytes");
_Static_assert(sizeof(PlrustError) == 4 * sizeof(void *), "PlrustError layout");
#endif

#ifdef __cplusplus
}
#endif

#endif /* PLRUST_ABI_H */

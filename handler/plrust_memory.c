/*
 * plrust_memory.c — the allocation callbacks of every function library, and
 * plrust.memory_limit.
 *
 * Function code must never see a longjmp, so every allocation is
 * MCXT_ALLOC_NO_OOM and every refusal a NULL return. Each library allocates
 * in its own context ("PL/Rust function", identified by the function's
 * name, so pg_backend_memory_contexts shows what each one holds), and the
 * limit applies to what all of them hold together: a session can call any
 * number of functions, and each may keep memory in statics across calls.
 *
 * What is counted is what is held. A block counts as the space palloc
 * really gave it (GetMemoryChunkSpace: rounding and header included) from
 * its allocation until it is freed, whatever size Rust later says it has: a
 * shrinking realloc moves the data to a smaller block, or keeps the large
 * block and keeps counting it. A library's static data (its writable
 * segments) counts from load to unload.
 */
#include "plrust.h"

#include "utils/memutils.h"

/* Opened once the limit is hit, so the panic path can build its payload. */
#define OOM_RESERVE ((Size) 64 * 1024)
/* Largest alignment honoured; Rust never needs more for real types. */
#define MAX_ALIGN ((Size) 1 << 20)
/* Stack the allocation callbacks need (palloc, malloc, mmap) with room to spare. */
#define CALLBACK_STACK_ROOM ((Size) 64 * 1024)
/* docs/ABI.md: an array result is one alloc(len * 24, 8) block */
#define RESULT_ARRAY_ALIGN ((Size) 8)
/* A shrink smaller than this leaves the block where it is (and counted in full). */
#define SHRINK_MOVE_MIN ((Size) 4096)

/* Bytes all PL/Rust libraries of this session hold now. */
static Size session_held = 0;

Size
plrust_memory_held(void)
{
	return session_held;
}

static inline Size
limit_bytes(void)
{
	return (Size) plrust_memory_limit_kb * 1024;
}

static bool
within_budget(const PlrustHostCtx *h, Size need)
{
	Size		limit = limit_bytes();
	Size		cap;

	if (limit == 0)
		return true;
	cap = limit + (h->limit_hit ? OOM_RESERVE : 0);
	return session_held <= cap && need <= cap - session_held;
}

static inline void
count(PlrustHostCtx *h, Size bytes)
{
	h->used += bytes;
	session_held += bytes;
}

static inline void
uncount(PlrustHostCtx *h, Size bytes)
{
	h->used = h->used > bytes ? h->used - bytes : 0;
	session_held = session_held > bytes ? session_held - bytes : 0;
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
 * state half-updated, while one in Rust code is caught by plrust_overflow.c.
 */
static inline bool
stack_has_room(void)
{
	char		here;
	uintptr_t	floor = plrust_stack_floor();

	return floor == 0 || (uintptr_t) &here > floor + CALLBACK_STACK_ROOM;
}

static inline void *
raw_pointer(void *ptr, Size align)
{
	return align > MAXIMUM_ALIGNOF ? ((void **) ptr)[-1] : ptr;
}

/* A block within the budget, or NULL; a refusal is not recorded. */
static void *
try_alloc(PlrustHostCtx *h, size_t size, size_t align)
{
	Size		need = footprint(size, align);
	char	   *raw;
	char	   *aligned;

	if ((align & (align - 1)) != 0 || align > MAX_ALIGN || need < size ||
		need > MaxAllocHugeSize || !within_budget(h, need) || !stack_has_room())
		return NULL;
	raw = MemoryContextAllocExtended(h->fn_cxt, need, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (raw == NULL)
		return NULL;
	count(h, GetMemoryChunkSpace(raw));
	if (align <= MAXIMUM_ALIGNOF)
		return raw;
	/* palloc aligns to MAXIMUM_ALIGNOF only; keep the real start just below. */
	aligned = (char *) TYPEALIGN(align, (uintptr_t) raw + sizeof(void *));
	((void **) aligned)[-1] = raw;
	return aligned;
}

static void *
alloc_block(PlrustHostCtx *h, size_t size, size_t align)
{
	void	   *p = try_alloc(h, size, align);

	if (p == NULL)
	{
		h->refused_size = size;
		if (!within_budget(h, footprint(size, align)))
			h->limit_hit = true;
	}
	return p;
}

static void
free_block(PlrustHostCtx *h, void *ptr, size_t align)
{
	void	   *raw;

	if (ptr == NULL)
		return;
	/* without room, the block stays allocated (and counted) until the library is unloaded */
	if (!stack_has_room())
		return;
	raw = raw_pointer(ptr, align);
	uncount(h, GetMemoryChunkSpace(raw));
	pfree(raw);
}

/*
 * Growing moves the block, since repalloc cannot be told not to throw
 * before PostgreSQL 16. Shrinking moves it too when that frees a useful
 * amount; a block that stays keeps its full size in the count.
 */
static void *
realloc_block(PlrustHostCtx *h, void *ptr, size_t old_size, size_t align, size_t new_size)
{
	void	   *moved;

	if (ptr == NULL)
		return alloc_block(h, new_size, align);
	if (new_size <= old_size)
	{
		Size		space = GetMemoryChunkSpace(raw_pointer(ptr, align));
		Size		need = footprint(new_size, align);

		if (space < SHRINK_MOVE_MIN || need > space / 2)
			return ptr;
		moved = try_alloc(h, new_size, align);
		if (moved == NULL)
			return ptr;
		memcpy(moved, ptr, new_size);
		free_block(h, ptr, align);
		return moved;
	}
	moved = alloc_block(h, new_size, align);
	if (moved == NULL)
		return NULL;
	memcpy(moved, ptr, old_size);
	free_block(h, ptr, align);
	return moved;
}

/*
 * The callbacks function code sees. palloc's state is half-updated while
 * they run, so the backstop (plrust_backstop.c) must not leave the Rust
 * frames then: it marks the region and, if it gave up meanwhile, leaves at
 * its end.
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
	free_block(ctx, ptr, align);
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

void
plrust_memory_attach(PlrustFunction *fn)
{
	fn->hctx.used = 0;
	fn->hctx.limit_hit = false;
	fn->hctx.refused_size = 0;
	fn->host.ctx = &fn->hctx;
	fn->host.alloc = host_alloc;
	fn->host.dealloc = host_dealloc;
	fn->host.realloc = host_realloc;
}

void
plrust_memory_count_statics(PlrustFunction *fn, Size bytes)
{
	if (!within_budget(&fn->hctx, bytes))
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("The function's library has %zu bytes of static data, more than "
						   "plrust.memory_limit (%d kB) leaves: the PL/Rust functions of this session "
						   "hold %zu kB.",
						   bytes, plrust_memory_limit_kb, session_held / 1024)));
	count(&fn->hctx, bytes);
}

void
plrust_memory_forget(PlrustFunction *fn)
{
	uncount(&fn->hctx, fn->hctx.used);
}

static void
release_bytes(PlrustFunction *fn, PlrustSlice s)
{
	if (s.ptr != NULL && s.len > 0)
		free_block(&fn->hctx, (void *) s.ptr, 1);
}

/* One non-array value: its bytes, or a range's bound bytes and its block of three. */
static void
release_value(PlrustFunction *fn, const PlrustValue *v, PlrustScalar scalar)
{
	if (v->is_null || !plrust_scalar_has_buffers(scalar))
		return;
	if (plrust_scalar_is_range(scalar))
	{
		const PlrustValue *parts = v->v.array.ptr;

		if (parts == NULL)
			return;
		if (v->v.array.len == 3 && plrust_scalar_has_buffers(plrust_range_subtype(scalar)))
		{
			release_value(fn, &parts[1], plrust_range_subtype(scalar));
			release_value(fn, &parts[2], plrust_range_subtype(scalar));
		}
		free_block(&fn->hctx, (void *) parts, RESULT_ARRAY_ALIGN);
	}
	else
		release_bytes(fn, v->v.bytes);
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

	/* an isolated call's values live in the argument context */
	if (fn->isolated || result->is_null || t->scalar == PLRUST_VOID)
		return;
	if (t->is_array)
	{
		const PlrustValue *elems = result->v.array.ptr;
		Size		n = result->v.array.len;

		if (elems == NULL || n == 0)
			return;
		if (plrust_scalar_has_buffers(t->scalar))
		{
			Size		i;

			for (i = 0; i < n; i++)
				release_value(fn, &elems[i], t->scalar);
		}
		free_block(&fn->hctx, (void *) elems, RESULT_ARRAY_ALIGN);
	}
	else
		release_value(fn, result, t->scalar);
}

/* Error buffers likewise, except the static messages of two statuses. */
void
plrust_release_error(PlrustFunction *fn, int32 status, const PlrustError *error)
{
	if (fn->isolated || status == PLRUST_OK || status == PLRUST_OOM || status == PLRUST_NOT_INITIALIZED)
		return;
	release_bytes(fn, error->message);
	release_bytes(fn, error->location);
}

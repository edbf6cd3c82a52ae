/*
 * plrust_interpose.c — what a freshly loaded function library's imports
 * resolve to, and what the handler needs to know of its layout.
 *
 * Two imports of std would let function code outlive what PostgreSQL asked
 * of it, so each library's relocations for them are rewritten to the
 * handler's own versions right after dlopen:
 *
 * - clock_nanosleep: std's thread::sleep goes back to sleep after every
 *   signal, so a long sleep would outlive statement_timeout and
 *   pg_cancel_backend. The replacement ends the sleep as soon as a cancel or
 *   terminate request is pending; the next checkpoint (or PostgreSQL, once
 *   the call returns) then stops the statement.
 * - __cxa_thread_atexit_impl: std registers the destructor of every
 *   thread_local value with it, and exit() runs those destructors after
 *   PostgreSQL's cleanup, when the session has given back its slot: a
 *   destructor that loops would keep a process no one can signal or count
 *   alive, and enough of them lock every role out of the server. The
 *   replacement registers nothing, so function code never runs at exit;
 *   the values' memory goes with the library's context.
 *
 * The layout: where the library's code lies (the escape path asks whether a
 * fault stopped function code there), and how much static data it has
 * (which counts against plrust.memory_limit like heap memory).
 */
#include "plrust.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "miscadmin.h"

/* Longest slice of an interposed sleep between two looks at the interrupt flags. */
#define SLEEP_SLICE_NS 50000000L
#define NS_PER_S 1000000000L

/* ---- the replacements ---- */

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

/* Accepts the registration and forgets it: 0 is glibc's "registered". */
static int
never_at_exit(void (*dtor) (void *), void *obj, void *dso_symbol)
{
	return 0;
}

typedef struct Replacement
{
	const char *symbol;
	uintptr_t	target;
} Replacement;

static const Replacement replacements[] = {
	{"clock_nanosleep", (uintptr_t) interruptible_clock_nanosleep},
	{"__cxa_thread_atexit_impl", (uintptr_t) never_at_exit},
};

/* ---- the layout ---- */

typedef struct Layout
{
	ElfW(Addr)	base;			/* what to look for */
	bool		found;
	uintptr_t	relro_start;	/* the pages the loader made read-only */
	uintptr_t	relro_end;
	uintptr_t	code_start;
	uintptr_t	code_end;
	Size		writable;		/* bytes of writable segments in memory */
} Layout;

static int
read_layout(struct dl_phdr_info *info, size_t size, void *arg)
{
	Layout	   *l = arg;
	long		page = sysconf(_SC_PAGESIZE);
	int			i;

	if (info->dlpi_addr != l->base)
		return 0;
	l->found = true;
	for (i = 0; i < info->dlpi_phnum; i++)
	{
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t	start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_GNU_RELRO)
		{
			/* rounded as ld.so rounds it when it protects the segment */
			l->relro_start = start & ~(uintptr_t) (page - 1);
			l->relro_end = (start + ph->p_memsz) & ~(uintptr_t) (page - 1);
		}
		else if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
		{
			if (l->code_start == 0 || start < l->code_start)
				l->code_start = start;
			if (start + ph->p_memsz > l->code_end)
				l->code_end = start + ph->p_memsz;
		}
		else if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			l->writable += ph->p_memsz;
	}
	return 1;
}

/* ---- rewriting relocations ---- */

static void
write_slot(const Layout *layout, uintptr_t slot, uintptr_t value, const PlrustDef *def)
{
	long		page_size = sysconf(_SC_PAGESIZE);
	uintptr_t	page = slot & ~(uintptr_t) (page_size - 1);
	bool		read_only = page >= layout->relro_start && page < layout->relro_end;

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

static void
redirect_imports(const struct link_map *lm, const Layout *layout, const PlrustDef *def)
{
	const ElfW(Dyn) *d;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	Size		strsz = 0;
	const ElfW(Rela) *tables[2] = {NULL, NULL};
	Size		sizes[2] = {0, 0};
	bool		plt_is_rela = true;
	int			t;

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
			int			k;

			if (sym == 0)
				continue;
			name = symtab[sym].st_name;
			if (name >= strsz)
				continue;
			for (k = 0; k < lengthof(replacements); k++)
				if (strcmp(strtab + name, replacements[k].symbol) == 0)
					write_slot(layout, lm->l_addr + r->r_offset, replacements[k].target + r->r_addend, def);
		}
	}
}

void
plrust_adopt_library(PlrustFunction *fn, void *dl_handle)
{
	struct link_map *lm = NULL;
	Layout		layout;

	if (dlinfo(dl_handle, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL)
		ereport(ERROR,
				(errmsg("could not inspect the library of PL/Rust function \"%s\"", fn->def->name)));
	memset(&layout, 0, sizeof(layout));
	layout.base = lm->l_addr;
	dl_iterate_phdr(read_layout, &layout);
	if (!layout.found || layout.code_start == 0)
		ereport(ERROR,
				(errmsg("could not inspect the library of PL/Rust function \"%s\"", fn->def->name),
				 errdetail("The dynamic loader does not list its segments.")));
	redirect_imports(lm, &layout, fn->def);
	fn->code_start = layout.code_start;
	fn->code_end = layout.code_end;
	plrust_memory_count_statics(fn, layout.writable);
	plrust_exit_deadline_register();
}

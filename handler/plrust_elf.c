/*
 * plrust_elf.c — the last look at a function library before dlopen,
 * whatever its origin (compiled, restored from a dump, prebuilt).
 *
 * It reads the bytes the loader will map, the way the loader reads them:
 * program headers and the dynamic section, never the section headers (which
 * the loader ignores, so they could tell a checker one story and the loader
 * another). It refuses what would run or reach the OS before any function
 * is called: libraries and imported symbols off the allowlist
 * (targets/symbol-allowlist.json, compiled in as plrust_allowlist.h),
 * search paths, filters and auditors, IFUNC resolvers and IRELATIVE
 * relocations, and initialisers beyond what a library from the plrust
 * toolchain has.
 *
 * Every offset and size comes from the file, so each is checked against
 * the buffer before use, with overflow-safe arithmetic.
 */
#include "plrust.h"

#include <elf.h>
#include <unistd.h>

#include "plrust_allowlist.h"

/*
 * Initialisers of a library from the plrust toolchain, measured (rustc 1.96,
 * gcc 12): crtbeginS's frame_dummy on both; on aarch64 also std's argument
 * initialiser, which x86_64's std leaves out. A library with one more, such
 * as a C constructor, is refused.
 */
#if defined(__x86_64__)
#define HOST_ELF_MACHINE EM_X86_64
#define HOST_IRELATIVE R_X86_64_IRELATIVE
#define MAX_INIT_ENTRIES 1
#else
#define HOST_ELF_MACHINE EM_AARCH64
#define HOST_IRELATIVE R_AARCH64_IRELATIVE
#define MAX_INIT_ENTRIES 2
#endif
#define MAX_FINI_ENTRIES 1
/* More symbols than any function library has; bounds the work on a hostile file. */
#define MAX_SYMBOLS 1000000

typedef struct Image
{
	const char *data;
	Size		len;
	const Elf64_Phdr *phdrs;
	int			phnum;
} Image;

typedef struct Dynamic
{
	Elf64_Addr	strtab;
	Elf64_Xword strsz;
	Elf64_Addr	symtab;
	Elf64_Addr	hash;
	Elf64_Addr	gnu_hash;
	Elf64_Addr	rela;
	Elf64_Xword relasz;
	Elf64_Addr	jmprel;
	Elf64_Xword pltrelsz;
	Elf64_Xword init_arraysz;
	Elf64_Xword fini_arraysz;
	bool		has_strtab;
	bool		has_symtab;
} Dynamic;

/* The file range [off, off + size) lies inside the buffer. */
static bool
in_file(const Image *im, uint64 off, uint64 size)
{
	return off <= im->len && size <= im->len - off;
}

/*
 * The file offset of `size` bytes at virtual address `addr`, as the loader
 * maps them: they must lie in the file-backed part of one PT_LOAD segment.
 */
static bool
vaddr_to_offset(const Image *im, uint64 addr, uint64 size, uint64 *off)
{
	for (int i = 0; i < im->phnum; i++)
	{
		const Elf64_Phdr *ph = &im->phdrs[i];

		if (ph->p_type != PT_LOAD || addr < ph->p_vaddr)
			continue;
		if (addr - ph->p_vaddr > ph->p_filesz || size > ph->p_filesz - (addr - ph->p_vaddr))
			continue;
		*off = ph->p_offset + (addr - ph->p_vaddr);
		return in_file(im, *off, size);
	}
	return false;
}

static int
compare_names(const void *key, const void *entry)
{
	return strcmp((const char *) key, *(const char *const *) entry);
}

static bool
listed(const char *name, const char *const *list, Size n)
{
	return bsearch(name, list, n, sizeof(char *), compare_names) != NULL;
}

/* A NUL-terminated string at offset `at` of the dynamic string table, or NULL. */
static const char *
dyn_string(const Image *im, const Dynamic *d, uint64 at)
{
	uint64		off;
	const char *s;

	if (!d->has_strtab || at >= d->strsz || !vaddr_to_offset(im, d->strtab, d->strsz, &off))
		return NULL;
	s = im->data + off + at;
	return memchr(s, '\0', d->strsz - at) != NULL ? s : NULL;
}

/*
 * The loader maps PT_LOAD segments in order, whole pages at a time, so a
 * later segment can replace bytes of an earlier one. Reading through
 * vaddr_to_offset shows what the loader shows only if segments ascend, do
 * not overlap, and agree on the file offset of any page they share.
 */
static const char *
check_segments(const Image *im)
{
	uint64		page = (uint64) sysconf(_SC_PAGESIZE);
	const Elf64_Phdr *prev = NULL;

	for (int i = 0; i < im->phnum; i++)
	{
		const Elf64_Phdr *ph = &im->phdrs[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_vaddr + ph->p_memsz < ph->p_vaddr ||
			!in_file(im, ph->p_offset, ph->p_filesz))
			return "a loadable segment lies outside the file";
		if (prev != NULL)
		{
			uint64		prev_end = prev->p_vaddr + prev->p_memsz;

			if (ph->p_vaddr < prev_end)
				return "its loadable segments overlap or are out of order";
			if ((ph->p_vaddr & ~(page - 1)) < ((prev_end + page - 1) & ~(page - 1)) &&
				ph->p_vaddr - ph->p_offset != prev->p_vaddr - prev->p_offset)
				return "two loadable segments share a page with different contents";
		}
		prev = ph;
	}
	return prev == NULL ? "it has no loadable segment" : NULL;
}

static const char *
read_dynamic(const Image *im, const Elf64_Phdr *ph, Dynamic *d, List **needed)
{
	uint64		count;
	uint64		i;
	const Elf64_Dyn *dyn;

	uint64		off;

	/* the loader reads it at its address, not at p_offset */
	if (!vaddr_to_offset(im, ph->p_vaddr, ph->p_filesz, &off) || off % sizeof(Elf64_Xword) != 0)
		return "the dynamic section lies outside the file";
	dyn = (const Elf64_Dyn *) (im->data + off);
	count = ph->p_filesz / sizeof(Elf64_Dyn);
	memset(d, 0, sizeof(*d));
	for (i = 0; i < count && dyn[i].d_tag != DT_NULL; i++)
	{
		const Elf64_Dyn *e = &dyn[i];

		switch (e->d_tag)
		{
			case DT_NEEDED:
				*needed = lappend(*needed, (void *) (uintptr_t) e->d_un.d_val);
				break;
			case DT_STRTAB:
				d->strtab = e->d_un.d_ptr;
				d->has_strtab = true;
				break;
			case DT_STRSZ:
				d->strsz = e->d_un.d_val;
				break;
			case DT_SYMTAB:
				d->symtab = e->d_un.d_ptr;
				d->has_symtab = true;
				break;
			case DT_SYMENT:
				if (e->d_un.d_val != sizeof(Elf64_Sym))
					return "the dynamic symbol entries have an unexpected size";
				break;
			case DT_HASH:
				d->hash = e->d_un.d_ptr;
				break;
			case DT_GNU_HASH:
				d->gnu_hash = e->d_un.d_ptr;
				break;
			case DT_RELA:
				d->rela = e->d_un.d_ptr;
				break;
			case DT_RELASZ:
				d->relasz = e->d_un.d_val;
				break;
			case DT_RELAENT:
				if (e->d_un.d_val != sizeof(Elf64_Rela))
					return "the relocation entries have an unexpected size";
				break;
			case DT_JMPREL:
				d->jmprel = e->d_un.d_ptr;
				break;
			case DT_PLTRELSZ:
				d->pltrelsz = e->d_un.d_val;
				break;
			case DT_PLTREL:
				if (e->d_un.d_val != DT_RELA)
					return "the PLT relocations are not of type RELA";
				break;
			case DT_REL:
			case DT_RELSZ:
			case DT_RELENT:
				return "the library has REL relocations, which x86_64 and aarch64 libraries never use";
			case DT_INIT_ARRAYSZ:
				d->init_arraysz = e->d_un.d_val;
				break;
			case DT_FINI_ARRAYSZ:
				d->fini_arraysz = e->d_un.d_val;
				break;
			case DT_PREINIT_ARRAY:
			case DT_PREINIT_ARRAYSZ:
				return "the library has a pre-initialiser array";
			case DT_RPATH:
			case DT_RUNPATH:
				return "the library sets a library search path";
			case DT_FILTER:
			case DT_AUXILIARY:
			case DT_AUDIT:
			case DT_DEPAUDIT:
				return "the library names a filter or audit library";
			case DT_TEXTREL:
				return "the library relocates its own code (DT_TEXTREL)";
			default:
				break;
		}
	}
	if (i == count)
		return "the dynamic section has no terminating entry";
	if (!d->has_strtab || !d->has_symtab)
		return "the library has no dynamic symbol or string table";
	return NULL;
}

/* Symbols the loader can reach through the hash tables: DT_HASH's nchain, or the end of DT_GNU_HASH's chains. */
static const char *
symbol_count(const Image *im, const Dynamic *d, uint64 *count)
{
	uint64		off;

	*count = 0;
	if (d->hash != 0)
	{
		if (!vaddr_to_offset(im, d->hash, 8, &off))
			return "the hash table lies outside the file";
		*count = ((const uint32 *) (im->data + off))[1];
	}
	if (d->gnu_hash != 0)
	{
		const uint32 *h;
		uint32		nbuckets;
		uint32		symoffset;
		uint32		bloom_size;
		uint64		buckets_off;
		uint64		last = 0;
		uint64		n;

		if (!vaddr_to_offset(im, d->gnu_hash, 16, &off))
			return "the GNU hash table lies outside the file";
		h = (const uint32 *) (im->data + off);
		nbuckets = h[0];
		symoffset = h[1];
		bloom_size = h[2];
		buckets_off = 16 + (uint64) bloom_size * 8;
		if (!vaddr_to_offset(im, d->gnu_hash, buckets_off + (uint64) nbuckets * 4, &off))
			return "the GNU hash table lies outside the file";
		h = (const uint32 *) (im->data + off + buckets_off);
		for (uint32 b = 0; b < nbuckets; b++)
			last = Max(last, h[b]);
		n = symoffset;
		if (last >= symoffset)
		{
			/* follow the chain of the highest bucket to its end marker */
			uint64		chain_base = buckets_off + (uint64) nbuckets * 4;

			for (n = last;; n++)
			{
				uint64		at = chain_base + (n - symoffset) * 4;
				uint32		v;

				if (n - symoffset > MAX_SYMBOLS || !vaddr_to_offset(im, d->gnu_hash, at + 4, &off))
					return "the GNU hash chains run outside the file";
				v = *(const uint32 *) (im->data + off + at);
				if (v & 1)
					break;
			}
			n++;
		}
		*count = Max(*count, n);
	}
	return NULL;
}

static const char *
check_symbol(const Image *im, const Dynamic *d, uint64 index, const Elf64_Sym *syms)
{
	const Elf64_Sym *s = &syms[index];
	const char *name;

	if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
		return "the library defines an IFUNC symbol, whose resolver would run at load time";
	if (s->st_shndx != SHN_UNDEF || index == 0)
		return NULL;
	name = dyn_string(im, d, s->st_name);
	if (name == NULL)
		return "a symbol name lies outside the string table";
	if (name[0] == '\0' || listed(name, plrust_allowed_symbols, lengthof(plrust_allowed_symbols)))
		return NULL;
	return psprintf("the library imports \"%s\", which is not on the symbol allowlist", name);
}

static const char *
check_relocations(const Image *im, uint64 addr, uint64 size, uint64 *max_symbol)
{
	uint64		off;
	const Elf64_Rela *r;

	if (size == 0)
		return NULL;
	if (size % sizeof(Elf64_Rela) != 0 || !vaddr_to_offset(im, addr, size, &off))
		return "the relocations lie outside the file";
	r = (const Elf64_Rela *) (im->data + off);
	for (uint64 i = 0; i < size / sizeof(Elf64_Rela); i++)
	{
		if (ELF64_R_TYPE(r[i].r_info) == HOST_IRELATIVE)
			return "the library has an IRELATIVE relocation, whose resolver would run at load time";
		*max_symbol = Max(*max_symbol, (uint64) ELF64_R_SYM(r[i].r_info));
	}
	return NULL;
}

/*
 * Returns NULL when the library may be loaded, else why not (a sentence
 * fragment for errdetail). data must be suitably aligned (palloc'd).
 */
const char *
plrust_elf_problem(const char *data, Size len)
{
	Image		im;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *dynamic = NULL;
	const Elf64_Sym *syms;
	Dynamic		d;
	List	   *needed = NIL;
	ListCell   *lc;
	uint64		count;
	uint64		max_reloc_symbol = 0;
	uint64		off;
	const char *problem;

	/* Stored artifacts sit at a bytea's 4-byte offset; the reads below want natural alignment. */
	if ((uintptr_t) data % sizeof(Elf64_Xword) != 0)
	{
		char	   *copy = palloc_extended(Max(len, 1), MCXT_ALLOC_HUGE);

		memcpy(copy, data, len);
		data = copy;
	}
	im = (Image) {.data = data,.len = len};
	eh = (const Elf64_Ehdr *) data;
	if (len < sizeof(Elf64_Ehdr) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
		eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return "it is not a 64-bit little-endian ELF file";
	if (eh->e_type != ET_DYN || eh->e_machine != HOST_ELF_MACHINE)
		return "it is not a shared library for " PLRUST_HOST_ARCH;
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff % 8 != 0 ||
		!in_file(&im, eh->e_phoff, (uint64) eh->e_phnum * sizeof(Elf64_Phdr)))
		return "its program headers lie outside the file";
	im.phdrs = (const Elf64_Phdr *) (data + eh->e_phoff);
	im.phnum = eh->e_phnum;
	for (int i = 0; i < im.phnum; i++)
	{
		if (im.phdrs[i].p_type == PT_INTERP)
			return "it names a program interpreter";
		if (im.phdrs[i].p_type != PT_DYNAMIC)
			continue;
		if (dynamic != NULL)
			return "it has more than one dynamic section";
		dynamic = &im.phdrs[i];
	}
	if (dynamic == NULL)
		return "it has no dynamic section";
	if ((problem = check_segments(&im)) != NULL)
		return problem;
	if ((problem = read_dynamic(&im, dynamic, &d, &needed)) != NULL)
		return problem;

	foreach(lc, needed)
	{
		const char *name = dyn_string(&im, &d, (uint64) (uintptr_t) lfirst(lc));

		if (name == NULL)
			return "a needed library's name lies outside the string table";
		if (!listed(name, plrust_allowed_libraries, lengthof(plrust_allowed_libraries)))
			return psprintf("it needs library \"%s\", which is not on the allowlist", name);
	}

	if (d.init_arraysz % 8 != 0 || d.init_arraysz / 8 > MAX_INIT_ENTRIES ||
		d.fini_arraysz % 8 != 0 || d.fini_arraysz / 8 > MAX_FINI_ENTRIES)
		return psprintf("it has %llu initialisers and %llu finalisers, more than a library built by plrust has",
						(unsigned long long) (d.init_arraysz / 8), (unsigned long long) (d.fini_arraysz / 8));

	if ((problem = check_relocations(&im, d.rela, d.relasz, &max_reloc_symbol)) != NULL ||
		(problem = check_relocations(&im, d.jmprel, d.pltrelsz, &max_reloc_symbol)) != NULL ||
		(problem = symbol_count(&im, &d, &count)) != NULL)
		return problem;
	count = Max(count, max_reloc_symbol + 1);
	if (count > MAX_SYMBOLS || d.symtab % 8 != 0 ||
		!vaddr_to_offset(&im, d.symtab, count * sizeof(Elf64_Sym), &off) || off % 8 != 0)
		return "its dynamic symbol table lies outside the file";
	syms = (const Elf64_Sym *) (data + off);
	for (uint64 i = 1; i < count; i++)
		if ((problem = check_symbol(&im, &d, i, syms)) != NULL)
			return problem;
	return NULL;
}

/**
 * A reader for the dynamic-linking view of ELF64 little-endian shared objects:
 * the dynamic symbol table with GNU symbol versions, and the dynamic section's
 * library references. Only what the symbol allowlist needs, but parsed
 * strictly: every offset is bounds-checked, and the section headers (which
 * the dynamic loader never reads) must describe the same tables that the
 * loader finds through PT_DYNAMIC, so a file cannot show this reader one
 * symbol table and the loader another.
 */
import { readFile } from 'node:fs/promises';
import { PlrustError, isErrnoException } from '../util/errors.js';

export type ElfMachine = 'x86_64' | 'aarch64';
export type ElfType = 'relocatable' | 'executable' | 'shared' | 'core' | 'other';
export type SymbolBinding = 'local' | 'global' | 'weak' | 'unique' | 'other';
export type SymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'ifunc' | 'other';

export interface DynamicSymbol {
  /** Position in .dynsym (entry 0 is the reserved null symbol and is not listed). */
  readonly index: number;
  readonly name: string;
  /** Undefined: the dynamic linker resolves it from another object at load time. */
  readonly undefined: boolean;
  readonly binding: SymbolBinding;
  readonly type: SymbolType;
  readonly value: bigint;
  readonly size: bigint;
  /** GNU symbol version, e.g. `GLIBC_2.2.5`; absent for unversioned symbols. */
  readonly version?: string;
  /** The version is hidden (readelf `name@V`), not the default (`name@@V`); only meaningful for definitions. */
  readonly versionHidden?: boolean;
  /** For an import: the library its version requirement names (e.g. `libc.so.6`). */
  readonly versionLibrary?: string;
}

export type DynamicLoadTag = 'DT_FILTER' | 'DT_AUXILIARY' | 'DT_AUDIT' | 'DT_DEPAUDIT';
export type SearchPathTag = 'DT_RPATH' | 'DT_RUNPATH';

export interface ElfDynamicInfo {
  readonly machine: ElfMachine;
  readonly type: ElfType;
  /** DT_NEEDED, in order. */
  readonly needed: string[];
  readonly soname?: string;
  /** Library search paths the object asks the loader to use. */
  readonly searchPaths: { tag: SearchPathTag; value: string }[];
  /** Libraries loaded through a dynamic tag other than DT_NEEDED (filters, auditors). */
  readonly otherLoads: { tag: DynamicLoadTag; value: string }[];
  readonly symbols: DynamicSymbol[];
  /** What runs when the object is loaded or unloaded: DT_INIT/DT_FINI and the entries of the arrays. */
  readonly initialisers?: { init: boolean; initArray: number; preinitArray: number; finiArray: number };
}

const MACHINES: Record<number, ElfMachine> = { 62: 'x86_64', 183: 'aarch64' };
const TYPES: Record<number, ElfType> = { 1: 'relocatable', 2: 'executable', 3: 'shared', 4: 'core' };
const BINDINGS: Record<number, SymbolBinding> = { 0: 'local', 1: 'global', 2: 'weak', 10: 'unique' };
const SYMBOL_TYPES: Record<number, SymbolType> = {
  0: 'notype',
  1: 'object',
  2: 'func',
  3: 'section',
  4: 'file',
  5: 'common',
  6: 'tls',
  10: 'ifunc',
};

const SHT_NOBITS = 8;
const SHT_DYNAMIC = 6;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;

const DT = {
  NULL: 0,
  NEEDED: 1,
  PLTRELSZ: 2,
  STRTAB: 5,
  SYMTAB: 6,
  RELA: 7,
  RELASZ: 8,
  INIT: 12,
  SONAME: 14,
  RPATH: 15,
  REL: 17,
  RELSZ: 18,
  PLTREL: 20,
  JMPREL: 23,
  INIT_ARRAYSZ: 27,
  FINI_ARRAYSZ: 28,
  RUNPATH: 29,
  PREINIT_ARRAYSZ: 33,
  VERSYM: 0x6ffffff0,
  VERNEED: 0x6ffffffe,
  DEPAUDIT: 0x6ffffefb,
  AUDIT: 0x6ffffefc,
  AUXILIARY: 0x7ffffffd,
  FILTER: 0x7fffffff,
} as const;

const OTHER_LOAD_TAGS = new Map<number, DynamicLoadTag>([
  [DT.FILTER, 'DT_FILTER'],
  [DT.AUXILIARY, 'DT_AUXILIARY'],
  [DT.AUDIT, 'DT_AUDIT'],
  [DT.DEPAUDIT, 'DT_DEPAUDIT'],
]);

const SYM_SIZE = 24;
const DYN_SIZE = 16;
const RELA_SIZE = 24;
const REL_SIZE = 16;

interface Section {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
}

interface Segment {
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
}

/** Reads a whole file and parses it; errors name the file. */
export async function readElfDynamicInfo(path: string): Promise<ElfDynamicInfo> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES')) {
      throw new PlrustError({
        code: 'LIBRARY_NOT_READABLE',
        message: `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : 'permission denied'}`,
        cause: e,
      });
    }
    throw e;
  }
  return parseElfDynamicInfo(bytes, path);
}

/** Parses an ELF64 little-endian object; `label` names it in error messages. */
export function parseElfDynamicInfo(bytes: Uint8Array, label = 'input'): ElfDynamicInfo {
  return new ElfParser(bytes, label).parse();
}

class ElfParser {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly label: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  parse(): ElfDynamicInfo {
    const { machine, type, sections, segments } = this.headers();
    const dynsyms = sections.filter((s) => s.type === SHT_DYNSYM);
    if (dynsyms.length > 1) throw this.malformed('more than one SHT_DYNSYM section');
    const dynsym = dynsyms[0];
    const dynamicSection = this.single(sections, SHT_DYNAMIC);
    const versym = this.single(sections, SHT_GNU_VERSYM);
    const verneed = this.single(sections, SHT_GNU_VERNEED);
    const verdef = this.single(sections, SHT_GNU_VERDEF);

    const dynamic = this.dynamicEntries(sections, segments, dynamicSection);
    const symbolCount = dynsym ? this.entryCount(dynsym, SYM_SIZE) : 0;
    this.checkLoaderView(
      dynamic.raw,
      segments,
      { dynsym, dynstr: dynsym && this.linked(sections, dynsym), versym, verneed },
      symbolCount,
    );

    const versions = new Map<number, { name: string; library?: string }>();
    if (verneed) this.readVerneed(sections, verneed, versions);
    if (verdef) this.readVerdef(sections, verdef, versions);
    const symbols = dynsym ? this.readSymbols(sections, dynsym, symbolCount, versym, versions) : [];

    return {
      machine,
      type,
      needed: dynamic.needed,
      ...(dynamic.soname !== undefined ? { soname: dynamic.soname } : {}),
      searchPaths: dynamic.searchPaths,
      otherLoads: dynamic.otherLoads,
      symbols,
      initialisers: {
        init: dynamic.raw.has(DT.INIT),
        initArray: Math.floor((dynamic.raw.get(DT.INIT_ARRAYSZ)?.[0] ?? 0) / 8),
        preinitArray: Math.floor((dynamic.raw.get(DT.PREINIT_ARRAYSZ)?.[0] ?? 0) / 8),
        finiArray: Math.floor((dynamic.raw.get(DT.FINI_ARRAYSZ)?.[0] ?? 0) / 8),
      },
    };
  }

  private headers(): { machine: ElfMachine; type: ElfType; sections: Section[]; segments: Segment[] } {
    const b = this.bytes;
    if (b.length < 4 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
      throw new PlrustError({
        code: 'NOT_ELF',
        message: `${this.label} is not an ELF file (no \\x7fELF signature)`,
        hint: 'pass the shared library (.so) that the compiler produced',
      });
    }
    if (b.length < 64) throw this.malformed(`the ELF header is truncated (${b.length} of 64 bytes)`);
    if (b[4] !== 2)
      throw this.unsupported(
        b[4] === 1
          ? 'it is a 32-bit (ELFCLASS32) object; only 64-bit objects are supported'
          : `unknown ELF class ${b[4]}`,
      );
    if (b[5] !== 1)
      throw this.unsupported(
        b[5] === 2 ? 'it is big-endian; only little-endian objects are supported' : `unknown ELF data encoding ${b[5]}`,
      );
    if (b[6] !== 1) throw this.unsupported(`unknown ELF version ${b[6]}`);

    const machineCode = this.u16(18);
    const machine = MACHINES[machineCode];
    if (!machine) throw this.unsupported(`machine ${machineCode} is neither x86_64 (62) nor aarch64 (183)`);
    const type = TYPES[this.u16(16)] ?? 'other';

    const phoff = this.u64(32);
    const shoff = this.u64(40);
    const phentsize = this.u16(54);
    let phnum = this.u16(56);
    const shentsize = this.u16(58);
    let shnum = this.u16(60);
    let shstrndx = this.u16(62);

    if (shoff === 0) throw this.malformed('it has no section headers');
    if (shentsize !== 64) throw this.malformed(`section header size is ${shentsize}, expected 64`);
    // Extended numbering: counts that overflow 16 bits live in section header 0.
    if (shnum === 0) shnum = this.u64(shoff + 32);
    if (shstrndx === 0xffff) shstrndx = this.u32(shoff + 40);
    if (phnum === 0xffff) phnum = this.u32(shoff + 44);
    this.need(shoff, shnum * 64, 'section header table');

    const raw = Array.from({ length: shnum }, (_, index) => {
      const at = shoff + index * 64;
      return {
        index,
        nameOffset: this.u32(at),
        type: this.u32(at + 4),
        addr: this.u64(at + 16),
        offset: this.u64(at + 24),
        size: this.u64(at + 32),
        link: this.u32(at + 40),
        info: this.u32(at + 44),
      };
    });
    const shstr = shstrndx !== 0 && shstrndx < shnum ? raw[shstrndx] : undefined;
    const sections: Section[] = raw.map((s) => ({
      index: s.index,
      name: shstr ? this.cString(shstr.offset, shstr.size, s.nameOffset, 'section name') : '',
      type: s.type,
      addr: s.addr,
      offset: s.offset,
      size: s.size,
      link: s.link,
      info: s.info,
    }));

    const segments: Segment[] = [];
    if (phnum > 0) {
      if (phentsize !== 56) throw this.malformed(`program header size is ${phentsize}, expected 56`);
      this.need(phoff, phnum * 56, 'program header table');
      for (let i = 0; i < phnum; i++) {
        const at = phoff + i * 56;
        segments.push({
          type: this.u32(at),
          offset: this.u64(at + 8),
          vaddr: this.u64(at + 16),
          filesz: this.u64(at + 32),
        });
      }
    }
    return { machine, type, sections, segments };
  }

  private dynamicEntries(sections: Section[], segments: Segment[], section: Section | undefined) {
    const result = {
      raw: new Map<number, number[]>(),
      needed: [] as string[],
      soname: undefined as string | undefined,
      searchPaths: [] as { tag: SearchPathTag; value: string }[],
      otherLoads: [] as { tag: DynamicLoadTag; value: string }[],
    };
    const ptDynamic = segments.filter((p) => p.type === PT_DYNAMIC);
    if (ptDynamic.length > 1) throw this.malformed('more than one PT_DYNAMIC segment');
    if (!section) {
      if (ptDynamic.length > 0) throw this.inconsistent('PT_DYNAMIC exists but no SHT_DYNAMIC section describes it');
      return result;
    }
    const segment = ptDynamic[0];
    if (!segment) throw this.inconsistent('an SHT_DYNAMIC section exists but no PT_DYNAMIC segment');
    if (segment.offset !== section.offset || segment.vaddr !== section.addr) {
      throw this.inconsistent(
        'the .dynamic section and the PT_DYNAMIC segment the loader reads are at different places',
      );
    }
    this.section(section, 'dynamic section');
    const strtab = this.linked(sections, section);
    const stringEntries: [number, number][] = [];
    for (let at = section.offset; at + DYN_SIZE <= section.offset + section.size; at += DYN_SIZE) {
      const tag = this.view.getBigInt64(at, true);
      if (tag === 0n) break;
      // Tags above 2^31 are processor/OS-specific values the loader ignores for our purposes.
      if (tag < 0n || tag > 0x7fffffffn) continue;
      const t = Number(tag);
      const value = this.u64Lenient(at + 8);
      const list = result.raw.get(t) ?? [];
      list.push(value);
      result.raw.set(t, list);
      stringEntries.push([t, value]);
    }
    const str = (offset: number) => this.cString(strtab.offset, strtab.size, offset, 'dynamic string');
    for (const [tag, value] of stringEntries) {
      if (tag === DT.NEEDED) result.needed.push(str(value));
      else if (tag === DT.SONAME) result.soname = str(value);
      else if (tag === DT.RPATH) result.searchPaths.push({ tag: 'DT_RPATH', value: str(value) });
      else if (tag === DT.RUNPATH) result.searchPaths.push({ tag: 'DT_RUNPATH', value: str(value) });
      else {
        const other = OTHER_LOAD_TAGS.get(tag);
        if (other) result.otherLoads.push({ tag: other, value: str(value) });
      }
    }
    return result;
  }

  /**
   * The loader finds the symbol, string and version tables through dynamic
   * tags (virtual addresses), and binds only symbols that relocations name.
   * Require that those are exactly the tables read here.
   */
  private checkLoaderView(
    raw: Map<number, number[]>,
    segments: Segment[],
    tables: { dynsym?: Section; dynstr?: Section; versym?: Section; verneed?: Section },
    symbolCount: number,
  ): void {
    const one = (tag: number, name: string): number | undefined => {
      const values = raw.get(tag);
      if (values && values.length > 1) throw this.inconsistent(`${name} appears more than once`);
      return values?.[0];
    };
    const agree = (tag: number, name: string, section: Section | undefined, what: string) => {
      const addr = one(tag, name);
      if (addr === undefined && section === undefined) return;
      if (addr === undefined || section === undefined || addr !== section.addr) {
        throw this.inconsistent(`${name} and the ${what} section header point at different tables`);
      }
      if (this.fileOffset(segments, addr, name) !== section.offset) {
        throw this.inconsistent(`the ${what} section's file offset does not match where ${name} is loaded from`);
      }
    };
    if (raw.size === 0 && !tables.dynsym) return;
    agree(DT.SYMTAB, 'DT_SYMTAB', tables.dynsym, '.dynsym');
    agree(DT.STRTAB, 'DT_STRTAB', tables.dynstr, '.dynstr');
    agree(DT.VERSYM, 'DT_VERSYM', tables.versym, '.gnu.version');
    agree(DT.VERNEED, 'DT_VERNEED', tables.verneed, '.gnu.version_r');

    const relocs: [number | undefined, number | undefined, number, string][] = [
      [one(DT.RELA, 'DT_RELA'), one(DT.RELASZ, 'DT_RELASZ'), RELA_SIZE, 'DT_RELA'],
      [one(DT.REL, 'DT_REL'), one(DT.RELSZ, 'DT_RELSZ'), REL_SIZE, 'DT_REL'],
    ];
    const jmprel = one(DT.JMPREL, 'DT_JMPREL');
    if (jmprel !== undefined) {
      const pltrel = one(DT.PLTREL, 'DT_PLTREL');
      relocs.push([jmprel, one(DT.PLTRELSZ, 'DT_PLTRELSZ'), pltrel === DT.REL ? REL_SIZE : RELA_SIZE, 'DT_JMPREL']);
    }
    for (const [addr, size, entry, name] of relocs) {
      if (addr === undefined) continue;
      if (size === undefined) throw this.malformed(`${name} has no size tag`);
      const offset = this.fileOffset(segments, addr, name);
      this.need(offset, size, `${name} relocations`);
      for (let at = offset; at + entry <= offset + size; at += entry) {
        const symbol = this.view.getUint32(at + 12, true);
        if (symbol >= symbolCount) {
          throw this.inconsistent(
            `a relocation in ${name} names symbol ${symbol}, beyond the ${symbolCount} entries of .dynsym`,
          );
        }
      }
    }
  }

  private readVerneed(
    sections: Section[],
    verneed: Section,
    versions: Map<number, { name: string; library?: string }>,
  ): void {
    this.section(verneed, '.gnu.version_r');
    const strtab = this.linked(sections, verneed);
    const str = (o: number) => this.cString(strtab.offset, strtab.size, o, 'version string');
    const end = verneed.offset + verneed.size;
    let at = verneed.offset;
    for (let n = 0; n < verneed.info; n++) {
      this.within(at, 16, end, '.gnu.version_r entry');
      const count = this.u16(at + 2);
      const library = str(this.u32(at + 4));
      let aux = at + this.u32(at + 8);
      for (let k = 0; k < count; k++) {
        this.within(aux, 16, end, '.gnu.version_r auxiliary entry');
        versions.set(this.u16(aux + 6) & 0x7fff, { name: str(this.u32(aux + 8)), library });
        const next = this.u32(aux + 12);
        if (next === 0) break;
        aux += next;
      }
      const next = this.u32(at + 12);
      if (next === 0) break;
      at += next;
    }
  }

  private readVerdef(
    sections: Section[],
    verdef: Section,
    versions: Map<number, { name: string; library?: string }>,
  ): void {
    this.section(verdef, '.gnu.version_d');
    const strtab = this.linked(sections, verdef);
    const end = verdef.offset + verdef.size;
    let at = verdef.offset;
    for (let n = 0; n < verdef.info; n++) {
      this.within(at, 20, end, '.gnu.version_d entry');
      const index = this.u16(at + 4) & 0x7fff;
      const aux = at + this.u32(at + 12);
      this.within(aux, 8, end, '.gnu.version_d auxiliary entry');
      versions.set(index, { name: this.cString(strtab.offset, strtab.size, this.u32(aux), 'version string') });
      const next = this.u32(at + 16);
      if (next === 0) break;
      at += next;
    }
  }

  private readSymbols(
    sections: Section[],
    dynsym: Section,
    count: number,
    versym: Section | undefined,
    versions: Map<number, { name: string; library?: string }>,
  ): DynamicSymbol[] {
    this.section(dynsym, '.dynsym');
    const strtab = this.linked(sections, dynsym);
    if (versym) {
      this.section(versym, '.gnu.version');
      if (versym.size < count * 2) throw this.malformed('.gnu.version has fewer entries than .dynsym');
    }
    const symbols: DynamicSymbol[] = [];
    for (let index = 1; index < count; index++) {
      const at = dynsym.offset + index * SYM_SIZE;
      const info = this.bytes[at + 4]!;
      const shndx = this.u16(at + 6);
      const symbol: DynamicSymbol = {
        index,
        name: this.cString(strtab.offset, strtab.size, this.u32(at), 'symbol name'),
        undefined: shndx === 0,
        binding: BINDINGS[info >> 4] ?? 'other',
        type: SYMBOL_TYPES[info & 0xf] ?? 'other',
        value: this.view.getBigUint64(at + 8, true),
        size: this.view.getBigUint64(at + 16, true),
      };
      symbols.push(
        versym
          ? { ...symbol, ...this.symbolVersion(symbol.name, this.u16(versym.offset + index * 2), versions) }
          : symbol,
      );
    }
    return symbols;
  }

  private symbolVersion(
    name: string,
    raw: number,
    versions: Map<number, { name: string; library?: string }>,
  ): Partial<DynamicSymbol> {
    const index = raw & 0x7fff;
    // 0 is "local", 1 is "global": neither carries a version name.
    if (index <= 1) return {};
    const version = versions.get(index);
    if (!version) throw this.malformed(`symbol ${name} refers to undefined version index ${index}`);
    return {
      version: version.name,
      versionHidden: (raw & 0x8000) !== 0,
      ...(version.library !== undefined ? { versionLibrary: version.library } : {}),
    };
  }

  private single(sections: Section[], type: number): Section | undefined {
    const found = sections.filter((s) => s.type === type);
    if (found.length > 1) throw this.malformed(`more than one section of type 0x${type.toString(16)}`);
    return found[0];
  }

  private linked(sections: Section[], section: Section): Section {
    const target = sections[section.link];
    if (section.link === 0 || !target)
      throw this.malformed(`section ${section.name || section.index} links to missing section ${section.link}`);
    this.section(target, 'string table');
    return target;
  }

  private entryCount(section: Section, entrySize: number): number {
    if (section.size % entrySize !== 0)
      throw this.malformed(`${section.name || 'section'} size ${section.size} is not a multiple of ${entrySize}`);
    return section.size / entrySize;
  }

  /** A section whose bytes are in the file. */
  private section(section: Section, what: string): void {
    if (section.type === SHT_NOBITS) throw this.malformed(`the ${what} has no contents in the file`);
    this.need(section.offset, section.size, what);
  }

  private fileOffset(segments: Segment[], vaddr: number, what: string): number {
    const load = segments.find((p) => p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz);
    if (!load) throw this.inconsistent(`${what} (0x${vaddr.toString(16)}) is not inside any loaded segment`);
    return load.offset + (vaddr - load.vaddr);
  }

  private cString(tableOffset: number, tableSize: number, offset: number, what: string): string {
    if (offset >= tableSize) throw this.malformed(`${what} offset ${offset} is outside its string table`);
    const start = tableOffset + offset;
    const limit = tableOffset + tableSize;
    const end = this.bytes.indexOf(0, start);
    if (end === -1 || end >= limit)
      throw this.malformed(`${what} at offset ${offset} is not terminated inside its string table`);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString('latin1');
  }

  private need(offset: number, length: number, what: string): void {
    this.within(offset, length, this.bytes.length, what);
  }

  private within(offset: number, length: number, end: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > end || offset + length > this.bytes.length) {
      throw this.malformed(`the ${what} lies outside the file (truncated?)`);
    }
  }

  private u16(at: number): number {
    this.need(at, 2, 'header field');
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    this.need(at, 4, 'header field');
    return this.view.getUint32(at, true);
  }

  /** Offsets and sizes: anything beyond 2^53 cannot point into a real file. */
  private u64(at: number): number {
    const value = this.u64Lenient(at);
    if (!Number.isSafeInteger(value))
      throw this.malformed(`a 64-bit offset or size at 0x${at.toString(16)} is out of range`);
    return value;
  }

  private u64Lenient(at: number): number {
    this.need(at, 8, 'header field');
    return Number(this.view.getBigUint64(at, true));
  }

  private malformed(detail: string): PlrustError {
    return new PlrustError({
      code: 'ELF_MALFORMED',
      message: `${this.label} is not a well-formed ELF object: ${detail}`,
      hint: 'the file may be truncated or damaged; rebuild it',
    });
  }

  private inconsistent(detail: string): PlrustError {
    return new PlrustError({
      code: 'ELF_INCONSISTENT',
      message: `${this.label} cannot be verified: ${detail}`,
      hint: 'its section headers disagree with what the dynamic loader would read; rebuild it with the plrust toolchain',
    });
  }

  private unsupported(detail: string): PlrustError {
    return new PlrustError({
      code: 'ELF_UNSUPPORTED',
      message: `${this.label} is not a supported ELF object: ${detail}`,
      hint: 'plrust verifies 64-bit little-endian x86_64 and aarch64 shared libraries',
    });
  }
}

/**
 * The library layer's last check: a function library may import only
 * allowlisted symbols and load only allowlisted libraries. Whatever the std
 * rules missed shows up here as an import such as `open64` or `socket`.
 */
import { ExitCode, PlrustError } from '../util/errors.js';
import { judgeLibrary, judgeSymbol, loadAllowlist, type Allowlist } from './allowlist.js';
import { readElfDynamicInfo, type ElfDynamicInfo, type ElfMachine } from './elf.js';

export interface ImportedSymbol {
  name: string;
  version?: string;
}

export interface DeniedSymbol extends ImportedSymbol {
  reason: string;
}

/** A DT_NEEDED library, a search path or a filter/audit library the object asks the loader for. */
export interface DeniedLibrary {
  name: string;
  reason: string;
}

/**
 * Initialisers of a library from the plrust toolchain, measured (rustc 1.96,
 * gcc 12): crtbeginS's frame_dummy, and on aarch64 std's argument
 * initialiser; one finaliser. The handler refuses more (handler/plrust_elf.c).
 */
const MAX_INIT_ARRAY: Record<ElfMachine, number> = { x86_64: 1, aarch64: 2 };
const MAX_FINI_ARRAY = 1;

/** Code the object would run when loaded that a library built by plrust does not have. */
export function loadTimeCode(elf: ElfDynamicInfo): string[] {
  const found: string[] = [];
  const i = elf.initialisers;
  if (i && i.initArray > MAX_INIT_ARRAY[elf.machine])
    found.push(`${i.initArray} initialisers (a plrust library has ${MAX_INIT_ARRAY[elf.machine]})`);
  if (i && i.finiArray > MAX_FINI_ARRAY) found.push(`${i.finiArray} finalisers (a plrust library has 1)`);
  if (i && i.preinitArray > 0) found.push('a pre-initialiser array');
  for (const s of elf.symbols)
    if (!s.undefined && s.type === 'ifunc') found.push(`IFUNC symbol ${s.name}, whose resolver runs at load time`);
  return found;
}

export interface VerifyReport {
  path: string;
  machine: ElfMachine;
  needed: string[];
  imported: ImportedSymbol[];
  denied: DeniedSymbol[];
  deniedLibraries: DeniedLibrary[];
  /** Initialisers and resolvers beyond what a library built by plrust has. */
  loadTimeCode: string[];
  ok: boolean;
}

export interface VerifyOptions {
  allowlist?: Allowlist;
}

export async function verifyLibrary(path: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const [elf, allowlist] = await Promise.all([readElfDynamicInfo(path), options.allowlist ?? loadAllowlist()]);
  return checkImports(path, elf, allowlist);
}

/** Like verifyLibrary, but an untrusted library is an error. */
export async function assertLibraryTrusted(path: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const report = await verifyLibrary(path, options);
  if (!report.ok) throw untrustedError(report);
  return report;
}

function checkImports(path: string, elf: ElfDynamicInfo, allowlist: Allowlist): VerifyReport {
  if (elf.type !== 'shared') {
    throw new PlrustError({
      code: 'NOT_SHARED_LIBRARY',
      message: `${path} is an ELF ${elf.type} object, not a shared library`,
      hint: 'pass the .so that the compiler produced',
    });
  }
  const imported = elf.symbols
    .filter((s) => s.undefined && s.name !== '')
    .map((s): ImportedSymbol => (s.version === undefined ? { name: s.name } : { name: s.name, version: s.version }))
    .sort((a, b) => compare(a.name, b.name) || compare(a.version ?? '', b.version ?? ''));
  const denied = imported.flatMap((s): DeniedSymbol[] => {
    const verdict = judgeSymbol(allowlist, s.name);
    return verdict.allowed ? [] : [{ ...s, reason: verdict.reason }];
  });
  const deniedLibraries: DeniedLibrary[] = [
    ...elf.needed.flatMap((name) => {
      const verdict = judgeLibrary(allowlist, name);
      return verdict.allowed ? [] : [{ name, reason: verdict.reason }];
    }),
    // A search path or a filter decides which file provides "libc.so.6", so the library names above would no longer mean what they say.
    ...elf.searchPaths.map((p) => ({
      name: `${p.tag}=${p.value}`,
      reason: 'a library search path could make the loader pick another file for an allowed library name',
    })),
    ...elf.otherLoads.map((l) => ({
      name: `${l.tag}=${l.value}`,
      reason: 'makes the loader load or consult another library',
    })),
  ];
  return {
    path,
    machine: elf.machine,
    needed: elf.needed,
    imported,
    denied,
    deniedLibraries,
    loadTimeCode: loadTimeCode(elf),
    ok: denied.length === 0 && deniedLibraries.length === 0 && loadTimeCode(elf).length === 0,
  };
}

export function formatImport(s: ImportedSymbol): string {
  return s.version === undefined ? s.name : `${s.name}@${s.version}`;
}

/** The error for a library that failed verification; its message names every offending import. */
export function untrustedError(report: VerifyReport): PlrustError {
  const items = [
    ...report.denied.map((s) => `${formatImport(s)} (${s.reason})`),
    ...report.deniedLibraries.map((l) => `${l.name} (${l.reason})`),
    ...report.loadTimeCode.map((c) => `${c}: code that would run when the library is loaded`),
  ];
  return new PlrustError({
    code: 'UNTRUSTED_SYMBOLS',
    exitCode: ExitCode.Untrusted,
    message: `${report.path} imports what a trusted function may not use: ${items.join('; ')}`,
    hint: 'the library was built against a std that still reaches the OS; build it with the plrust toolchain (plrust toolchain install), and if it already was, the std rules have a hole: report it',
    data: {
      path: report.path,
      machine: report.machine,
      denied: report.denied,
      deniedLibraries: report.deniedLibraries,
      loadTimeCode: report.loadTimeCode,
    },
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How one compiler run is confined: which host directories it sees, which
 * limits bound it, and the bubblewrap + prlimit command line that enforces
 * both (docs/TRUST.md, "The compiler's box"). Pure: the host is described
 * by the caller, so every decision here is unit-tested without a sandbox.
 */
import path from 'node:path';
import { PlrustError } from '../util/errors.js';

export const BWRAP = '/usr/bin/bwrap';
export const PRLIMIT = '/usr/bin/prlimit';

/** Where the job's directories appear inside the box. */
export const BOX = { root: '/plrust', src: '/plrust/src', out: '/plrust/out', tmp: '/plrust/tmp' } as const;

export interface CompileLimits {
  /** Address space of every process (RLIMIT_AS). */
  memoryBytes: number;
  /** CPU seconds of every process (RLIMIT_CPU); wall time is the caller's business. */
  cpuSeconds: number;
  /** Largest file any process may write (RLIMIT_FSIZE), and the largest library accepted. */
  outputBytes: number;
  /** Tasks (processes and threads) inside the box (RLIMIT_NPROC, counted per user namespace). */
  processes: number;
}

export const MIB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<CompileLimits> = {
  memoryBytes: 1024 * MIB,
  cpuSeconds: 60,
  outputBytes: 16 * MIB,
  processes: 64,
};

/** What the server calls each limit, and `plrust build`'s flag for it. */
export const LIMIT_NAMES: Record<keyof CompileLimits, { guc: string; flag: string; what: string }> = {
  memoryBytes: { guc: 'plrust.compile_memory_limit', flag: '--memory-limit', what: 'memory limit' },
  cpuSeconds: { guc: 'plrust.compile_cpu_limit', flag: '--cpu-limit', what: 'CPU time limit' },
  outputBytes: { guc: 'plrust.max_library_size', flag: '--max-library-size', what: 'library size limit' },
  processes: { guc: 'plrust.compile_process_limit', flag: '--process-limit', what: 'process and thread limit' },
};

export interface ConfineSettings {
  /** false only where a superuser (plrust.compile_sandbox = off) or the user (--no-sandbox) said so. */
  sandbox: boolean;
  limits: CompileLimits;
  /** Paths the compiler must never see, beyond the fixed ones (the server sends its data directory). */
  protect: string[];
}

export const DEFAULT_SETTINGS: Readonly<ConfineSettings> = { sandbox: true, limits: DEFAULT_LIMITS, protect: [] };

export interface Job {
  /** Absolute host path of the program (rustc). */
  program: string;
  /** Its arguments, given where the job's directories are as the program sees them. */
  args: (at: { src: string; out: string; tmp: string }) => string[];
  /** Host directories the program needs read-only beyond the system's (toolchain, sysroot). */
  readOnly: string[];
  /** Host directory of the input, read-only. */
  src: string;
  /** Host directory for the output, read-write; only files the program writes there leave the box. */
  out: string;
  env: Record<string, string>;
}

export type PathKind = 'dir' | 'symlink' | 'missing';

export interface HostFacts {
  kind: (p: string) => PathKind;
  /** Where a symlink points (only asked for paths kind() calls symlinks). */
  readlink: (p: string) => string;
  /** The environment an unconfined run inherits. */
  env: Record<string, string>;
}

export interface Plan {
  command: string;
  args: string[];
  env: Record<string, string>;
  sandboxed: boolean;
  limits: CompileLimits;
  /** The box's scratch file system (bytes); 0 when not sandboxed. */
  scratchBytes: number;
}

/**
 * What rustc and gcc/ld need of the system: programs, shared libraries and
 * crt files, gcc's helpers, a cross linker's sysroot, and the Debian
 * alternatives symlinks (`cc`). Not /etc (no ld.so.cache is needed: the
 * loader's default directories cover Debian's multiarch layout), not
 * /usr/share, /usr/local, /usr/src, /home, /var, /run.
 */
export const SYSTEM_DIRS = [
  '/usr/bin',
  '/usr/lib',
  '/usr/lib64',
  '/usr/libexec',
  '/usr/x86_64-linux-gnu',
  '/usr/aarch64-linux-gnu',
  '/etc/alternatives',
];
/** Top-level names that are symlinks into /usr on merged-/usr systems, real directories elsewhere. */
const TOP_LEVEL = ['/bin', '/lib', '/lib64'];

/** Never visible in the box, nor any directory holding them. */
export const ALWAYS_PROTECTED = ['/etc', '/home', '/root', '/var', '/run', '/proc', '/sys', '/dev', '/tmp'];

const isWithin = (inner: string, outer: string) =>
  inner === outer || inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`);

function refuse(message: string): PlrustError {
  return new PlrustError({
    code: 'SANDBOX_UNSAFE',
    message,
    hint: 'keep the plrust toolchain and plrust.work_dir in directories of their own, outside the data directory',
  });
}

/** Throws when a host directory would show the box something it must not see. */
export function checkBind(source: string, protect: string[]): void {
  const p = path.resolve(source);
  for (const secret of ALWAYS_PROTECTED) {
    if (isWithin(secret, p))
      throw refuse(`the compiler sandbox would expose ${secret} through ${p}: only the toolchain may be visible`);
  }
  for (const secret of protect.map((s) => path.resolve(s))) {
    if (isWithin(secret, p) || isWithin(p, secret))
      throw refuse(`the compiler sandbox would expose ${secret} through ${p}`);
  }
}

function validLimits(l: CompileLimits): void {
  for (const [k, v] of Object.entries(l) as [keyof CompileLimits, number][]) {
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new PlrustError({
        code: 'BAD_LIMIT',
        message: `the compiler's ${LIMIT_NAMES[k].what} must be a positive integer, not ${String(v)}`,
      });
  }
}

function prlimitArgs(l: CompileLimits, withProcesses: boolean): string[] {
  // The hard CPU limit is one second above the soft one: SIGXCPU first, so the cause is visible.
  return [
    `--as=${l.memoryBytes}`,
    `--cpu=${l.cpuSeconds}:${l.cpuSeconds + 1}`,
    `--fsize=${l.outputBytes}`,
    '--core=0',
    ...(withProcesses ? [`--nproc=${l.processes}`] : []),
    '--',
  ];
}

/** Scratch space for rustc's and the linker's temporary files: a few times the largest output. */
export function scratchSize(l: CompileLimits): number {
  return Math.max(64 * MIB, 4 * l.outputBytes);
}

export function planRun(job: Job, settings: ConfineSettings, host: HostFacts): Plan {
  validLimits(settings.limits);
  if (!path.isAbsolute(job.program)) throw refuse(`the compiler must be an absolute path, not ${job.program}`);
  if (!settings.sandbox) {
    // Without a user namespace RLIMIT_NPROC would count every process of the server's OS user.
    return {
      command: PRLIMIT,
      args: [
        ...prlimitArgs(settings.limits, false),
        job.program,
        ...job.args({ src: job.src, out: job.out, tmp: job.out }),
      ],
      env: { ...host.env, ...job.env },
      sandboxed: false,
      limits: settings.limits,
      scratchBytes: 0,
    };
  }

  for (const dir of [...job.readOnly, job.src, job.out]) checkBind(dir, settings.protect);
  const scratchBytes = scratchSize(settings.limits);
  const env: Record<string, string> = {
    PATH: '/usr/bin',
    LC_ALL: 'C.UTF-8',
    TMPDIR: BOX.tmp,
    HOME: BOX.tmp,
    ...job.env,
  };
  const system = SYSTEM_DIRS.filter((d) => host.kind(d) === 'dir');
  const top = TOP_LEVEL.flatMap((d) => {
    const kind = host.kind(d);
    if (kind === 'symlink') return ['--symlink', host.readlink(d), d];
    return kind === 'dir' ? ['--ro-bind', d, d] : [];
  });
  // The toolchain appears at its own path, so paths recorded in it (sysroot, runtime) keep working.
  const toolchain = [...new Set(job.readOnly.map((d) => path.resolve(d)))].filter(
    (d) => !system.some((s) => isWithin(d, s)),
  );
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--clearenv',
    ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
    ...system.flatMap((d) => ['--ro-bind', d, d]),
    ...top,
    ...toolchain.flatMap((d) => ['--ro-bind', d, d]),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(scratchBytes),
    '--tmpfs',
    BOX.root,
    '--ro-bind',
    job.src,
    BOX.src,
    '--bind',
    job.out,
    BOX.out,
    '--dir',
    BOX.tmp,
    '--chdir',
    BOX.src,
    '--',
    PRLIMIT,
    ...prlimitArgs(settings.limits, true),
    job.program,
    ...job.args({ src: BOX.src, out: BOX.out, tmp: BOX.tmp }),
  ];
  // bwrap's own environment would stay readable in the box's /proc/1/environ: it gets none.
  return { command: BWRAP, args, env: {}, sandboxed: true, limits: settings.limits, scratchBytes };
}

/**
 * Runs a planned job and says which limit, if any, stopped it. Every rustc
 * run of function compilation goes through runConfined: nothing else may
 * start the compiler on source a database role wrote.
 */
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { PlrustError } from '../util/errors.js';
import {
  BWRAP,
  LIMIT_NAMES,
  PRLIMIT,
  planRun,
  type CompileLimits,
  type ConfineSettings,
  type HostFacts,
  type Job,
  type PathKind,
  type Plan,
} from './plan.js';

/** Diagnostics beyond this are dropped: a macro can make rustc print without end. */
const MAX_CAPTURE = 4 * 1024 * 1024;

export type LimitHit = keyof CompileLimits;

export interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The limit that stopped the run, when one did. */
  limit?: LimitHit;
  sandboxed: boolean;
}

export function hostFacts(): HostFacts {
  return {
    kind: (p: string): PathKind => {
      try {
        const st = fs.lstatSync(p);
        return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'missing';
      } catch {
        return 'missing';
      }
    },
    readlink: (p) => fs.readlinkSync(p),
    env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
  };
}

const SIGNALS: Record<number, NodeJS.Signals> = {
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
};

/**
 * Which limit ended the run. bwrap reports a signal as 128 + its number,
 * and a linker killed by one is reported by gcc, then rustc, in text.
 */
export function classify(code: number | null, signal: NodeJS.Signals | null, stderr: string): LimitHit | undefined {
  const sig = signal ?? (code !== null && code > 128 ? SIGNALS[code - 128] : undefined);
  if (sig === 'SIGXCPU' || /signal 24\b|CPU time limit exceeded/.test(stderr)) return 'cpuSeconds';
  if (sig === 'SIGXFSZ' || /signal 25\b|File size limit exceeded|File too large/.test(stderr)) return 'outputBytes';
  if (
    /memory allocation of \d+ bytes failed|out of memory|Cannot allocate memory|std::bad_alloc/i.test(stderr) ||
    sig === 'SIGABRT' ||
    sig === 'SIGSEGV'
  )
    return 'memoryBytes';
  if (/failed to spawn|Resource temporarily unavailable|cannot fork|fork: retry/i.test(stderr)) return 'processes';
  return undefined;
}

export function formatBytes(n: number): string {
  if (n % (1024 * 1024 * 1024) === 0) return `${n / (1024 * 1024 * 1024)} GB`;
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MB`;
  if (n % 1024 === 0) return `${n / 1024} kB`;
  return `${n} bytes`;
}

function limitValue(limit: LimitHit, l: CompileLimits): string {
  if (limit === 'cpuSeconds') return `${l.cpuSeconds} s`;
  if (limit === 'processes') return String(l.processes);
  return formatBytes(l[limit]);
}

/** The error for a run a limit stopped: names the limit, its value, and where to raise it. */
export function limitError(limit: LimitHit, limits: CompileLimits, subject: string): PlrustError {
  const n = LIMIT_NAMES[limit];
  return new PlrustError({
    code: 'COMPILE_LIMIT',
    message: `${subject} exceeded the compiler's ${n.what} (${limitValue(limit, limits)})`,
    hint: `a superuser can raise ${n.guc}; for plrust build, use ${n.flag}`,
    data: { limit: n.guc },
  });
}

function unavailable(detail: string): PlrustError {
  return new PlrustError({
    code: 'SANDBOX_UNAVAILABLE',
    message: `the compiler sandbox could not be set up: ${detail}`,
    hint:
      'install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces ' +
      '(sysctl user.max_user_namespaces > 0; on Debian kernel.unprivileged_userns_clone=1; on Ubuntu ' +
      'kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap). Only where that is ' +
      'impossible: a superuser may set plrust.compile_sandbox = off (plrust build --no-sandbox), ' +
      'and the compiler then reads whatever the OS user can',
  });
}

function capture(stream: NodeJS.ReadableStream, into: Buffer[]): void {
  let kept = 0;
  stream.on('data', (b: Buffer) => {
    if (kept >= MAX_CAPTURE) return;
    const part = b.subarray(0, MAX_CAPTURE - kept);
    kept += part.length;
    into.push(part);
  });
}

export function execPlan(plan: Plan): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(plan.command, plan.args, { env: plan.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    capture(child.stdout, out);
    capture(child.stderr, err);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        reject(
          plan.sandboxed
            ? unavailable(`${BWRAP} is not installed`)
            : new PlrustError({
                code: 'PRLIMIT_MISSING',
                message: `${PRLIMIT} is not installed`,
                hint: 'install util-linux',
              }),
        );
      else reject(e);
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      const outcome: RunOutcome = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
        sandboxed: plan.sandboxed,
      };
      // bwrap's own failures come before the program runs and are the only lines it prefixes so.
      if (plan.sandboxed && code !== 0 && /^bwrap: /.test(stderr)) {
        reject(
          unavailable(
            stderr
              .trim()
              .split('\n')[0]!
              .replace(/^bwrap: /, ''),
          ),
        );
        return;
      }
      if (code !== 0) {
        const limit = classify(code, signal, stderr);
        if (limit) outcome.limit = limit;
      }
      resolve(outcome);
    });
  });
}

/** Plans and runs one confined job; the single entry for compiler runs on user source. */
export function runConfined(job: Job, settings: ConfineSettings, host: HostFacts = hostFacts()): Promise<RunOutcome> {
  return execPlan(planRun(job, settings, host));
}

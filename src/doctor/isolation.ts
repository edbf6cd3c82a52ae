/**
 * Whether this host can run functions under plrust.isolation = process
 * (docs/ISOLATION.md): the kernel's seccomp and unprivileged user
 * namespaces, bubblewrap able to build the runner's box, and the runner
 * installed beside the handler. Isolation is optional, so a missing piece
 * is a warning; the server refuses isolated calls with the same reasons.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec } from '../util/exec.js';
import type { Finding } from './checks.js';

const BWRAP = '/usr/bin/bwrap';

export interface IsolationFacts {
  available: boolean;
  seccomp: boolean;
  userNamespaces: boolean;
  bubblewrap: boolean;
  /** undefined when no PostgreSQL installation was given */
  runner?: string | false;
  problems: string[];
}

function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export async function isolationFacts(pkglibdir?: string): Promise<IsolationFacts> {
  const problems: string[] = [];
  const actions = readProc('/proc/sys/kernel/seccomp/actions_avail');
  const seccomp = actions?.split(/\s+/).includes('kill_process') ?? false;
  if (!seccomp)
    problems.push(
      'the kernel offers no seccomp filters with kill_process (Linux 4.14 or later, CONFIG_SECCOMP_FILTER)',
    );
  const maxNs = Number(readProc('/proc/sys/user/max_user_namespaces') ?? '0');
  const debianSwitch = readProc('/proc/sys/kernel/unprivileged_userns_clone');
  const userNamespaces = maxNs > 0 && debianSwitch !== '0';
  if (!userNamespaces)
    problems.push(
      'unprivileged user namespaces are disabled (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)',
    );
  let bubblewrap = fs.existsSync(BWRAP);
  if (!bubblewrap) problems.push(`${BWRAP} is missing (apt-get install bubblewrap)`);
  else {
    // the same namespaces the server's runner box asks for
    const r = await exec(BWRAP, [
      ...['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--ro-bind', '/', '/'],
      ...['--proc', '/proc', '--', '/bin/true'],
    ]);
    bubblewrap = r.code === 0;
    if (!bubblewrap)
      problems.push(`bubblewrap cannot build the box: ${r.stderr.trim().split('\n')[0] ?? `exit ${String(r.code)}`}`);
  }
  let runner: string | false | undefined;
  if (pkglibdir !== undefined) {
    const file = path.join(pkglibdir, 'plrust_runner');
    runner = fs.existsSync(file) ? file : false;
    if (runner === false) problems.push(`the runner is not installed in ${pkglibdir} (plrust install puts it there)`);
  }
  // Headers matter only for building a runner; an installed one already has its filter compiled in.
  if (!runner && !fs.existsSync('/usr/include/seccomp.h'))
    problems.push('libseccomp-dev is missing: plrust install cannot build the runner');
  return {
    available: problems.length === 0,
    seccomp,
    userNamespaces,
    bubblewrap,
    ...(runner === undefined ? {} : { runner }),
    problems,
  };
}

/** The doctor's finding; never required (isolation is opt-in). */
export function isolationFinding(facts: IsolationFacts): Finding {
  const title = 'process isolation (plrust.isolation = process)';
  return facts.problems.length === 0
    ? {
        id: 'isolation',
        title,
        status: 'ok',
        required: false,
        detail: `seccomp, user namespaces and bubblewrap work${facts.runner ? `; runner ${facts.runner}` : ''}`,
      }
    : {
        id: 'isolation',
        title,
        status: 'warn',
        required: false,
        detail: facts.problems.join('; '),
        fix: 'run scripts/setup-system.sh (bubblewrap, libseccomp-dev) and allow unprivileged user namespaces',
      };
}

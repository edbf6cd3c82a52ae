/**
 * The last gate before a toolchain is published: a small cdylib compiled and
 * linked against the new sysroot and runtime must build, be of the right
 * architecture, and pass the linked-symbol allowlist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec } from '../util/exec.js';
import { PlrustError } from '../util/errors.js';
import { verifyLibrary, untrustedError } from '../verify/verify.js';
import type { Arch } from '../config/schema.js';

export const PROBE_SOURCE = `// plrust toolchain probe: allocation, formatting and unwinding must all link.
#[no_mangle]
pub extern "C" fn plrust_probe(n: u32) -> u64 {
    let r = std::panic::catch_unwind(|| {
        let v: Vec<u64> = (0..u64::from(n)).collect();
        let s = format!("{}", v.iter().sum::<u64>());
        s.parse::<u64>().unwrap_or(0)
    });
    r.unwrap_or(u64::MAX)
}
`;

export async function probeToolchain(opts: {
  rustc: string;
  sysroot: string;
  spec: string;
  arch: Arch;
  workDir: string;
  logFile: string;
}): Promise<void> {
  const dir = path.join(opts.workDir, `probe-${opts.arch}`);
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(dir, 'probe.rs');
  const out = path.join(dir, 'libprobe.so');
  fs.writeFileSync(src, PROBE_SOURCE);
  const r = await exec(
    opts.rustc,
    [
      '-Zunstable-options',
      '--sysroot',
      opts.sysroot,
      '--target',
      opts.spec,
      '--crate-type',
      'cdylib',
      '--edition',
      '2021',
      '-C',
      'opt-level=2',
      '-o',
      out,
      src,
    ],
    { env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, logFile: opts.logFile },
  );
  if (r.code !== 0) {
    throw new PlrustError({
      code: 'TOOLCHAIN_PROBE_FAILED',
      message: `a probe library does not build against the new ${opts.arch} sysroot:\n  ${r.stderr.trim().split('\n').slice(0, 12).join('\n  ')}`,
      hint: `the toolchain was not installed; full log: ${opts.logFile}`,
    });
  }
  const report = await verifyLibrary(out);
  if (report.machine !== opts.arch) {
    throw new PlrustError({
      code: 'TOOLCHAIN_PROBE_FAILED',
      message: `the ${opts.arch} probe library was linked for ${report.machine}`,
      hint: 'check the cross linker',
    });
  }
  if (!report.ok) throw untrustedError(report);
}

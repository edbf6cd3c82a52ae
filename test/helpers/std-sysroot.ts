/**
 * Restricted std sysroots for tests: those of the suite's shared toolchain,
 * built once per run by the real `plrust toolchain install`.
 */
import { sharedTarget } from './toolchain.js';

export type TestArch = 'x86_64' | 'aarch64';

export async function getTestSysroot(arch: TestArch): Promise<{ sysroot: string; spec: string; runtime: string }> {
  const t = await sharedTarget(arch);
  return { sysroot: t.sysroot, spec: t.spec, runtime: t.runtime };
}

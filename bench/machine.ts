/** The machine a benchmark ran on, printed with every result. */
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  rustc: string;
  postgres: string;
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0]!;
  } catch {
    return 'not found';
  }
}

export function machineInfo(): MachineInfo {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?/m);
    if (rel) osName = `${rel[1]} (kernel ${os.release()})`;
  } catch {
    // keep the kernel name
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    node: process.version,
    rustc: tryRun('/usr/bin/rustc', ['-V']),
    postgres: tryRun('/usr/lib/postgresql/15/bin/postgres', ['--version']),
  };
}

export function machineMarkdown(m: MachineInfo): string {
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB`,
    `- OS: ${m.os}`,
    `- Node ${m.node}; ${m.rustc}; ${m.postgres}`,
  ].join('\n');
}

/**
 * The state directory's layout (DESIGN.md, "State on disk"), in one place.
 * tmp/ lives inside PLRUST_HOME so every install can finish with rename().
 */
import path from 'node:path';

export interface HomeLayout {
  root: string;
  downloads: string;
  tmp: string;
  toolchains: string;
  cache: string;
  installs: string;
  sandbox: string;
  locks: string;
  logs: string;
  /** Holds the id of the default toolchain. */
  defaultToolchainFile: string;
}

export function homeLayout(root: string): HomeLayout {
  return {
    root,
    downloads: path.join(root, 'downloads'),
    tmp: path.join(root, 'tmp'),
    toolchains: path.join(root, 'toolchains'),
    cache: path.join(root, 'cache'),
    installs: path.join(root, 'installs'),
    sandbox: path.join(root, 'sandbox'),
    locks: path.join(root, 'locks'),
    logs: path.join(root, 'logs'),
    defaultToolchainFile: path.join(root, 'toolchains', 'default'),
  };
}

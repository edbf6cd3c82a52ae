/**
 * The pure parts of finding and fetching compilers: rust-toolchain.toml,
 * rustup toolchain names, origins, the dist server's channel manifest and
 * the rust-installer layout.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  findToolchainFile,
  untrustedToolchainFile,
  missingRustSrc,
  parseToolchainFile,
  resolveRustupToolchain,
} from '../../src/toolchain/rustup.js';
import {
  channelManifestUrl,
  headerPath,
  installComponents,
  mirrorUrl,
  parseChannelManifest,
  planDownloads,
} from '../../src/toolchain/dist.js';
import { classifyOrigin } from '../../src/toolchain/select.js';
import { PlrustError } from '../../src/util/errors.js';

function plrustError(code: string, check?: (e: PlrustError) => void): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof PlrustError, `expected a PlrustError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

const HOST = 'x86_64-unknown-linux-gnu';
let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-compilers-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('rust-toolchain.toml', () => {
  test('channel and path are read from the [toolchain] table; comments and other keys are ignored', () => {
    const f = '/p/rust-toolchain.toml';
    assert.deepEqual(
      parseToolchainFile(
        f,
        '[toolchain]\nchannel = "1.95.0"  # pinned\ncomponents = ["rust-src", "clippy"]\nprofile = "minimal"\n',
      ),
      { file: f, channel: '1.95.0' },
    );
    assert.deepEqual(parseToolchainFile(f, "[other]\nchannel = 'x'\n[toolchain]\npath = 'tc'\n"), {
      file: f,
      path: '/p/tc',
    });
  });

  test('the legacy rust-toolchain file may hold a bare channel name', () => {
    assert.deepEqual(parseToolchainFile('/p/rust-toolchain', 'nightly-2026-05-19\n'), {
      file: '/p/rust-toolchain',
      channel: 'nightly-2026-05-19',
    });
  });

  test('a file that names no toolchain is an error, not ignored', () => {
    assert.throws(
      () => parseToolchainFile('/p/rust-toolchain.toml', '[toolchain]\ncomponents = ["rust-src"]\n'),
      plrustError('TOOLCHAIN_FILE_INVALID', (e) =>
        assert.match(e.message, /\/p\/rust-toolchain\.toml names no toolchain/),
      ),
    );
  });

  test('is searched from the directory upwards, the nearest one winning', () => {
    const root = path.join(tmp, 'proj');
    const deep = path.join(root, 'a', 'b');
    fs.mkdirSync(deep, { recursive: true });
    assert.ok(!findToolchainFile(deep)?.file.startsWith(root));
    fs.writeFileSync(path.join(root, 'rust-toolchain.toml'), '[toolchain]\nchannel = "stable"\n');
    assert.deepEqual(findToolchainFile(deep), { file: path.join(root, 'rust-toolchain.toml'), channel: 'stable' });
    fs.writeFileSync(path.join(root, 'a', 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.96.0"\n');
    assert.equal(findToolchainFile(deep)?.channel, '1.96.0');
  });
});

describe('a toolchain file others can write is refused', () => {
  test('group- or world-writable files and directories are named', () => {
    const dir = path.join(tmp, 'shared');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'rust-toolchain.toml');
    fs.writeFileSync(file, '[toolchain]\npath = "/tmp/evil"\n');
    fs.chmodSync(file, 0o644);
    fs.chmodSync(dir, 0o755);
    assert.equal(untrustedToolchainFile(file), undefined);
    fs.chmodSync(dir, 0o1777);
    assert.match(untrustedToolchainFile(file) ?? '', /shared is writable by every user/);
    assert.throws(
      () => findToolchainFile(dir),
      plrustError('TOOLCHAIN_FILE_UNTRUSTED', (e) => assert.match(e.message, /another user could choose the compiler/)),
    );
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(file, 0o664);
    assert.match(untrustedToolchainFile(file) ?? '', /writable by its group/);
    fs.chmodSync(file, 0o644);
    fs.chownSync(file, 65534, 65534);
    assert.match(untrustedToolchainFile(file, 4242) ?? '', /rust-toolchain\.toml is owned by uid 65534/);
    assert.equal(untrustedToolchainFile(file, 65534), undefined, "the installing user's own file is trusted");
  });
});

describe('rustup toolchain names', () => {
  let home: string;
  before(() => {
    home = path.join(tmp, 'rustup');
    for (const name of [`stable-${HOST}`, `1.95.0-${HOST}`, 'linked']) {
      fs.mkdirSync(path.join(home, 'toolchains', name, 'bin'), { recursive: true });
      fs.writeFileSync(path.join(home, 'toolchains', name, 'bin', 'rustc'), '');
    }
    const src = path.join(home, 'toolchains', `stable-${HOST}`, 'lib', 'rustlib', 'src', 'rust', 'library', 'std');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'Cargo.toml'), '');
  });

  test('a channel completes to <channel>-<host>, a full or linked name is taken as it is', () => {
    const stable = resolveRustupToolchain('stable', HOST, home);
    assert.equal(stable.name, `stable-${HOST}`);
    assert.equal(stable.rustSrc, path.join(stable.dir, 'lib', 'rustlib', 'src', 'rust', 'library'));
    assert.equal(resolveRustupToolchain(`1.95.0-${HOST}`, HOST, home).name, `1.95.0-${HOST}`);
    assert.equal(resolveRustupToolchain('1.95.0', HOST, home).rustSrc, undefined);
    assert.equal(
      resolveRustupToolchain('linked', HOST, home).rustc,
      path.join(home, 'toolchains', 'linked', 'bin', 'rustc'),
    );
  });

  test('an unknown toolchain lists the installed ones; a name with a path in it is refused', () => {
    assert.throws(
      () => resolveRustupToolchain('beta', HOST, home),
      plrustError('RUSTUP_TOOLCHAIN_NOT_FOUND', (e) => {
        assert.match(e.message, new RegExp(`installed: 1\\.95\\.0-${HOST}, linked, stable-${HOST}`));
        assert.equal(e.hint, 'install it with: rustup toolchain install beta --component rust-src');
      }),
    );
    assert.throws(() => resolveRustupToolchain('../../etc', HOST, home), plrustError('RUSTUP_TOOLCHAIN_INVALID'));
  });

  test('a toolchain without rust-src gets exactly the rustup command', () => {
    const e = missingRustSrc(resolveRustupToolchain('1.95.0', HOST, home));
    assert.equal(e.code, 'RUST_SRC_MISSING');
    assert.equal(e.hint, `rustup component add rust-src --toolchain 1.95.0-${HOST}`);
  });

  test('origins are judged by the sysroot', () => {
    const places = { rustupHome: '/r', compilersDir: '/h/compilers' };
    assert.deepEqual(classifyOrigin({ path: '/usr/bin/rustc', sysroot: '/usr' }, places), { kind: 'distribution' });
    assert.deepEqual(classifyOrigin({ path: '/c/.cargo/bin/rustc', sysroot: `/r/toolchains/stable-${HOST}` }, places), {
      kind: 'rustup',
      detail: `stable-${HOST}`,
    });
    assert.deepEqual(
      classifyOrigin({ path: '/h/compilers/rust-1.96.0/bin/rustc', sysroot: '/h/compilers/.store/x' }, places),
      { kind: 'downloaded' },
    );
    assert.deepEqual(classifyOrigin({ path: '/opt/rust/bin/rustc', sysroot: '/opt/rust' }, places), { kind: 'custom' });
  });
});

describe('channel manifest', () => {
  const sample = [
    'manifest-version = "2"',
    'date = "2026-05-25"',
    '[pkg.rustc]',
    'version = "1.96.0 (ac68faa20 2026-05-25)"',
    `[pkg.rustc.target.${HOST}]`,
    'available = true',
    `url = "https://static.rust-lang.org/dist/2026-05-25/rustc-1.96.0-${HOST}.tar.gz"`,
    `hash = "${'a'.repeat(64)}"`,
    `xz_url = "https://static.rust-lang.org/dist/2026-05-25/rustc-1.96.0-${HOST}.tar.xz"`,
    `xz_hash = "${'b'.repeat(64)}"`,
    '[pkg.rust]',
    'version = "1.96.0"',
    `[pkg.rust.target.${HOST}]`,
    'available = true',
    'components = [',
    `    { pkg = "rustc", target = "${HOST}" },`,
    ']',
    '[pkg.rust-src.target."*"]',
    'available = true',
    'url = "https://static.rust-lang.org/dist/2026-05-25/rust-src-1.96.0.tar.gz"',
    `hash = "${'c'.repeat(64)}"`,
    '[pkg.cargo.target.aarch64-unknown-linux-gnu]',
    'available = false',
    '[renames.rls]',
    'to = "rls-preview"',
    '[profiles]',
    'minimal = ["rustc", "cargo"]',
  ].join('\n');

  test('table headers with quoted keys', () => {
    assert.deepEqual(headerPath('pkg.rust-src.target."*"'), ['pkg', 'rust-src', 'target', '*']);
    assert.deepEqual(headerPath(`pkg.rustc.target.${HOST}`), ['pkg', 'rustc', 'target', HOST]);
    assert.deepEqual(headerPath('pkg..x'), []);
  });

  test('packages, targets, urls and hashes are read; multi-line arrays and other tables are skipped', () => {
    const m = parseChannelManifest(sample);
    assert.equal(m.date, '2026-05-25');
    assert.equal(m.pkg.get('rustc')?.version, '1.96.0 (ac68faa20 2026-05-25)');
    assert.deepEqual(m.pkg.get('rustc')?.target.get(HOST), {
      available: true,
      url: `https://static.rust-lang.org/dist/2026-05-25/rustc-1.96.0-${HOST}.tar.gz`,
      hash: 'a'.repeat(64),
    });
    assert.equal(m.pkg.get('rust-src')?.target.get('*')?.hash, 'c'.repeat(64));
    assert.equal(m.pkg.get('cargo')?.target.get('aarch64-unknown-linux-gnu')?.available, false);
  });

  test("the real manifest of the machine's rustup stable parses", { skip: !fs.existsSync(realManifest()) }, () => {
    const m = parseChannelManifest(fs.readFileSync(realManifest(), 'utf8'));
    for (const pkg of ['rustc', 'cargo', 'rust-std']) assert.equal(m.pkg.get(pkg)?.target.get(HOST)?.available, true);
    assert.match(m.pkg.get('rust-src')?.target.get('*')?.hash ?? '', /^[0-9a-f]{64}$/);
  });

  test('a mirror keeps the paths of the official URLs; a missing package is named', () => {
    assert.equal(channelManifestUrl('http://m/rust/', '1.96.0'), 'http://m/rust/dist/channel-rust-1.96.0.toml');
    assert.equal(
      mirrorUrl('http://m/rust', 'https://static.rust-lang.org/dist/2026-05-25/x.tar.gz'),
      'http://m/rust/dist/2026-05-25/x.tar.gz',
    );
    assert.throws(
      () => planDownloads(parseChannelManifest(sample), '1.96.0', HOST, 'http://m'),
      plrustError('DIST_PACKAGE_MISSING', (e) => assert.match(e.message, new RegExp(`no cargo for ${HOST}`))),
    );
  });

  test('something that is not a version-2 manifest is refused', () => {
    assert.throws(() => parseChannelManifest('<html>not found</html>'), plrustError('DIST_MANIFEST_INVALID'));
  });
});

function realManifest(): string {
  return path.join(
    os.homedir(),
    '.rustup',
    'toolchains',
    `stable-${HOST}`,
    'lib',
    'rustlib',
    'multirust-channel-manifest.toml',
  );
}

describe('rust-installer layout', () => {
  function pkg(name: string, manifestIn: string, version = '3'): string {
    const root = path.join(tmp, `unpacked-${name}`);
    const top = path.join(root, `${name}-1.96.0`);
    fs.mkdirSync(path.join(top, 'comp', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(top, 'comp', 'lib', 'src', 'x'), { recursive: true });
    fs.writeFileSync(path.join(top, 'rust-installer-version'), `${version}\n`);
    fs.writeFileSync(path.join(top, 'components'), 'comp\n');
    fs.writeFileSync(path.join(top, 'comp', 'manifest.in'), manifestIn);
    fs.writeFileSync(path.join(top, 'comp', 'bin', 'tool'), 'tool');
    fs.writeFileSync(path.join(top, 'comp', 'lib', 'src', 'x', 'f.rs'), 'fn f() {}');
    return root;
  }

  test('file: and dir: entries of each component land under the prefix', () => {
    const prefix = path.join(tmp, 'prefix');
    fs.mkdirSync(prefix);
    assert.deepEqual(installComponents(pkg('ok', 'file:bin/tool\ndir:lib/src\n'), prefix), ['comp']);
    assert.equal(fs.readFileSync(path.join(prefix, 'bin', 'tool'), 'utf8'), 'tool');
    assert.equal(fs.readFileSync(path.join(prefix, 'lib', 'src', 'x', 'f.rs'), 'utf8'), 'fn f() {}');
  });

  test('an entry leaving the prefix, a missing file or another installer version is refused', () => {
    const prefix = path.join(tmp, 'prefix-bad');
    fs.mkdirSync(prefix);
    assert.throws(
      () => installComponents(pkg('up', 'file:../../etc/passwd\n'), prefix),
      plrustError('DIST_PACKAGE_INVALID'),
    );
    assert.throws(
      () => installComponents(pkg('abs', 'file:/etc/passwd\n'), prefix),
      plrustError('DIST_PACKAGE_INVALID'),
    );
    assert.throws(
      () => installComponents(pkg('gone', 'file:bin/missing\n'), prefix),
      plrustError('DIST_PACKAGE_INVALID', (e) => assert.match(e.message, /listed but missing/)),
    );
    assert.throws(
      () => installComponents(pkg('v2', 'file:bin/tool\n', '2'), prefix),
      plrustError('DIST_PACKAGE_INVALID'),
    );
  });
});

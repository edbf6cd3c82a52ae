import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRuntimeDeps, registrySource, runtimeDepsFingerprint } from '../../src/toolchain/runtime-deps.js';
import { PlrustError } from '../../src/util/errors.js';

describe("the runtime crate's packaged dependencies", () => {
  const registry = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-registry-'));
  process.on('exit', () => fs.rmSync(registry, { recursive: true, force: true }));
  for (const d of ['serde-1.0.9', 'serde-1.0.152', 'serde-1.0.100', 'serde_json-1.0.87', 'serde_derive-1.0.200']) {
    fs.mkdirSync(path.join(registry, d));
  }

  test('the newest packaged version of exactly that crate', () => {
    assert.equal(registrySource('serde', registry), path.join(registry, 'serde-1.0.152'));
    assert.equal(registrySource('serde_json', registry), path.join(registry, 'serde_json-1.0.87'));
    assert.equal(registrySource('ryu', registry), null);
    assert.equal(registrySource('serde', path.join(registry, 'absent')), null);
  });

  test('a missing crate is a clear error naming the Debian package, before any rustc run', async () => {
    await assert.rejects(
      buildRuntimeDeps({
        rustc: '/nonexistent/rustc',
        sysroot: '/s',
        targetSpec: '/t/x.json',
        outDir: registry,
        registry,
      }),
      (e: unknown) =>
        e instanceof PlrustError &&
        e.code === 'RUNTIME_DEPENDENCY_MISSING' &&
        /itoa/.test(e.message) &&
        /librust-serde-json-dev/.test(e.hint ?? ''),
    );
  });

  test('a new packaged version changes the fingerprint the runtime hash includes', () => {
    const before = runtimeDepsFingerprint(registry);
    fs.mkdirSync(path.join(registry, 'serde_json-1.0.100'));
    assert.notEqual(runtimeDepsFingerprint(registry), before);
  });
});

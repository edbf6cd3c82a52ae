import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  applyRestriction,
  applyRuleToText,
  applySourceRules,
  loadRuleSets,
  markerName,
  planRestriction,
  type ReplaceRule,
  type RuleSet,
} from '../../src/toolchain/restrict.js';
import { PlrustError } from '../../src/util/errors.js';
import { sourcePrepRulesDir } from '../../src/toolchain/prepare.js';
import { TESTED_VERSIONS, stdSourceOf } from '../helpers/rust-sources.js';
import semver from 'semver';

function replaceRule(over: Partial<ReplaceRule> = {}): ReplaceRule {
  return {
    kind: 'replace',
    name: 'r',
    file: 'std/src/x.rs',
    why: 'test',
    anchor: 'old',
    count: 1,
    replacement: 'new',
    ...over,
  };
}

function set(range: string, rules = [replaceRule()]): RuleSet {
  return { range, source: `${range}.json`, rules };
}

function plrustError(code: string, check?: (e: PlrustError) => void): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof PlrustError, `expected a PlrustError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

describe('planRestriction', () => {
  const sets = [set('>=1.95.0 <1.96.0'), set('>=1.96.0 <1.97.0')];

  test('picks the rule set whose range covers the version', () => {
    assert.equal(planRestriction(sets, '1.96.0').range, '>=1.96.0 <1.97.0');
    assert.equal(planRestriction(sets, '1.96.2').range, '>=1.96.0 <1.97.0');
    assert.equal(planRestriction(sets, ' 1.95.0\n').range, '>=1.95.0 <1.96.0');
  });

  test('an uncovered version fails with the supported ranges', () => {
    assert.throws(
      () => planRestriction(sets, '1.97.0'),
      plrustError('RUSTC_UNSUPPORTED', (e) => {
        assert.match(e.message, /1\.97\.0/);
        assert.match(e.hint ?? '', />=1\.95\.0 <1\.96\.0, >=1\.96\.0 <1\.97\.0/);
      }),
    );
  });

  test('a pre-release never matches a stable range', () => {
    assert.throws(() => planRestriction(sets, '1.96.0-nightly'), plrustError('RUSTC_UNSUPPORTED'));
  });

  test('an unreadable version fails as unsupported', () => {
    assert.throws(() => planRestriction(sets, 'rustc 1.96'), plrustError('RUSTC_UNSUPPORTED'));
  });

  test('overlapping ranges are a broken rule set, not a silent choice', () => {
    assert.throws(() => planRestriction([...sets, set('~1.96')], '1.96.1'), plrustError('STD_RULES_INVALID'));
  });
});

describe('applyRuleToText', () => {
  test('replaces every occurrence when the count matches', () => {
    assert.equal(applyRuleToText(replaceRule({ anchor: 'a', count: 3, replacement: 'b' }), 'a-a-a'), 'b-b-b');
  });

  test('an anchor found too rarely or too often names the rule, the file and the expected text', () => {
    const rule = replaceRule({ name: 'fs-unsupported', anchor: 'mod unix;', file: 'std/src/sys/fs/mod.rs' });
    for (const text of ['nothing here', 'mod unix; mod unix;']) {
      assert.throws(
        () => applyRuleToText(rule, text),
        plrustError('STD_RULE_MISMATCH', (e) => {
          assert.match(e.message, /'fs-unsupported'/);
          assert.match(e.message, /std\/src\/sys\/fs\/mod\.rs/);
          assert.match(e.message, /mod unix;/);
          assert.equal(e.data?.rule, 'fs-unsupported');
        }),
      );
    }
  });
});

describe('loadRuleSets', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-rules-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the shipped rules cover rustc 1.96 and every rule says why', async () => {
    const sets = await loadRuleSets();
    const s = planRestriction(sets, '1.96.0');
    assert.ok(s.rules.length > 20);
    for (const r of s.rules) assert.ok(r.why.length > 20, `rule ${r.name} needs a reason`);
    const names = s.rules.map((r) => r.name);
    for (const needed of [
      'fs-unsupported',
      'net-unsupported',
      'process-unsupported',
      'env-unsupported',
      'args-unsupported',
      'stdio-postgres',
      'thread-spawn-unsupported',
      'process-exit-panics',
      'process-abort-panics',
      'alloc-error-panics',
    ]) {
      assert.ok(names.includes(needed), `missing rule ${needed}`);
    }
    const created = s.rules.find((r) => r.kind === 'create');
    assert.ok(
      created?.kind === 'create' && created.content.includes('pub fn panic_output'),
      'create rules carry their file content',
    );
  });

  test('lines given as arrays are joined with newlines; count defaults to 1', async () => {
    fs.writeFileSync(
      path.join(dir, 'a.json'),
      JSON.stringify({
        rustc: '>=1.0.0',
        rules: [{ name: 'x', file: 'f.rs', why: 'because', anchor: ['a', 'b'], replacement: 'c' }],
      }),
    );
    const [s] = await loadRuleSets(dir);
    assert.deepEqual(s!.rules[0], {
      kind: 'replace',
      name: 'x',
      file: 'f.rs',
      why: 'because',
      anchor: 'a\nb',
      count: 1,
      replacement: 'c',
    });
  });

  test('a malformed rule set is rejected with its path', async () => {
    fs.writeFileSync(
      path.join(dir, 'a.json'),
      JSON.stringify({ rustc: '>=1.0.0', rules: [{ name: 'x', file: 'f.rs', anchor: 'a', replacement: 'b' }] }),
    );
    await assert.rejects(
      loadRuleSets(dir),
      plrustError('STD_RULES_INVALID', (e) => assert.match(e.message, /a\.json/)),
    );
  });

  test('a rule set that is not JSON is rejected as malformed', async () => {
    fs.writeFileSync(path.join(dir, 'a.json'), '{ "rustc": ');
    await assert.rejects(loadRuleSets(dir), plrustError('STD_RULES_INVALID'));
  });

  test('two rules with one name are rejected unless they are alternatives for disjoint versions', async () => {
    const rule = { name: 'x', file: 'f.rs', why: 'because', anchor: 'a', replacement: 'b' };
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ rustc: '>=1.0.0', rules: [rule, rule] }));
    await assert.rejects(loadRuleSets(dir), plrustError('STD_RULES_INVALID'));
    const overlapping = [
      { ...rule, versions: '>=1.2.0' },
      { ...rule, versions: '<1.3.0' },
    ];
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ rustc: '>=1.0.0', rules: overlapping }));
    await assert.rejects(
      loadRuleSets(dir),
      plrustError('STD_RULES_INVALID', (e) => assert.match(e.message, /overlap/)),
    );
    const moved = [
      { ...rule, versions: '>=1.2.0', file: 'new.rs' },
      { ...rule, versions: '<1.2.0', file: 'old.rs' },
      { ...rule, name: 'y' },
    ];
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ rustc: '>=1.0.0', rules: moved }));
    const sets = await loadRuleSets(dir);
    assert.deepEqual(
      planRestriction(sets, '1.1.9').rules.map((r) => `${r.name}:${r.file}`),
      ['x:old.rs', 'y:f.rs'],
    );
    assert.deepEqual(
      planRestriction(sets, '1.2.0').rules.map((r) => `${r.name}:${r.file}`),
      ['x:new.rs', 'y:f.rs'],
    );
  });

  test('a rule whose versions are not a semver range is rejected', async () => {
    const rule = { name: 'x', versions: 'soon', file: 'f.rs', why: 'because', anchor: 'a', replacement: 'b' };
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ rustc: '>=1.0.0', rules: [rule] }));
    await assert.rejects(
      loadRuleSets(dir),
      plrustError('STD_RULES_INVALID', (e) => assert.match(e.message, /versions/)),
    );
  });

  test('the shipped rules cover exactly the minor versions whose real std source is tested', async () => {
    for (const rulesDir of [undefined, sourcePrepRulesDir()]) {
      const sets = await loadRuleSets(rulesDir);
      const covered: string[] = [];
      for (let minor = 80; minor < 200; minor++) {
        const v = `1.${minor}.0`;
        if (sets.some((s) => semver.satisfies(v, s.range))) covered.push(v);
      }
      assert.deepEqual(covered, TESTED_VERSIONS);
    }
  });
});

/** The Debian std source of /usr/bin/rustc, which the shipped rules are written against. */
function stdSource(): { version: string; library: string } {
  const vv = execFileSync('/usr/bin/rustc', ['-vV'], { encoding: 'utf8' });
  const version = /^release: (\S+)$/m.exec(vv)![1]!;
  return { version, library: `/usr/src/rustc-${version}/library` };
}

/** Copies only the files the rules touch: enough for the engine, far less than library/. */
function copyTouchedFiles(sets: RuleSet[], version: string, from: string, to: string): void {
  for (const r of planRestriction(sets, version).rules) {
    if (r.kind !== 'replace') continue;
    fs.mkdirSync(path.dirname(path.join(to, r.file)), { recursive: true });
    fs.copyFileSync(path.join(from, r.file), path.join(to, r.file));
  }
}

describe('applyRestriction on the real std source', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-restrict-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const version of TESTED_VERSIONS) {
    test(`every shipped std and source-prep rule fits the real std source of rustc ${version}`, async () => {
      const library = stdSourceOf(version);
      const sets = await loadRuleSets();
      const copy = path.join(tmp, `ok-${version}`);
      copyTouchedFiles(sets, version, library, copy);
      const applied = await applyRestriction(copy, version, sets);
      assert.equal(applied.length, planRestriction(sets, version).rules.length);
      const fsMod = fs.readFileSync(path.join(copy, 'std/src/sys/fs/mod.rs'), 'utf8');
      assert.match(fsMod, /target_vendor = "postgres" => \{\s+mod unsupported;/);
      assert.ok(fs.existsSync(path.join(copy, 'std/src/sys/stdio/postgres.rs')));
      assert.ok(fs.existsSync(path.join(copy, markerName('std'))));
      await assert.rejects(applyRestriction(copy, version, sets), plrustError('STD_ALREADY_RESTRICTED'));

      const prepSets = await loadRuleSets(sourcePrepRulesDir());
      const prepCopy = path.join(tmp, `prep-${version}`);
      copyTouchedFiles(prepSets, version, library, prepCopy);
      const prepApplied = await applySourceRules(prepCopy, version, prepSets, 'source-prep');
      assert.equal(prepApplied.length, planRestriction(prepSets, version).rules.length);
    });
  }

  test('each version gets its own alternative of a rule whose code moved (paths-unsupported)', async () => {
    const sets = await loadRuleSets();
    const files = (v: string) =>
      planRestriction(sets, v)
        .rules.filter((r) => r.name === 'paths-unsupported')
        .map((r) => r.file);
    assert.deepEqual(files('1.95.0'), ['std/src/env.rs']);
    assert.deepEqual(files('1.96.0'), ['std/src/sys/paths/mod.rs']);
  });

  test('a copy whose source moved under a rule fails naming the rule and writes nothing', async () => {
    const { version, library } = stdSource();
    const sets = await loadRuleSets();
    const copy = path.join(tmp, 'broken');
    copyTouchedFiles(sets, version, library, copy);
    const target = path.join(copy, 'std/src/sys/net/connection/mod.rs');
    const original = fs.readFileSync(target, 'utf8');
    fs.writeFileSync(
      target,
      original.replace('all(target_family = "unix", not(target_os = "l4re"))', 'target_family = "unix"'),
    );
    const processRs = path.join(copy, 'std/src/process.rs');
    const processBefore = fs.readFileSync(processRs, 'utf8');

    await assert.rejects(
      applyRestriction(copy, version, sets),
      plrustError('STD_RULE_MISMATCH', (e) => {
        assert.match(e.message, /'net-unsupported'/);
        assert.match(e.message, /std\/src\/sys\/net\/connection\/mod\.rs/);
        assert.match(e.message, /not\(target_os = "l4re"\)/);
      }),
    );
    assert.equal(fs.readFileSync(processRs, 'utf8'), processBefore, 'no file may be edited when a rule does not fit');
    assert.ok(!fs.existsSync(path.join(copy, 'std/src/sys/stdio/postgres.rs')));
    assert.ok(!fs.existsSync(path.join(copy, markerName('std'))));
  });

  test('a file the rules would create must not exist yet', async () => {
    const { version, library } = stdSource();
    const sets = await loadRuleSets();
    const copy = path.join(tmp, 'exists');
    copyTouchedFiles(sets, version, library, copy);
    fs.writeFileSync(path.join(copy, 'std/src/sys/stdio/postgres.rs'), '');
    await assert.rejects(
      applyRestriction(copy, version, sets),
      plrustError('STD_RULE_MISMATCH', (e) => assert.match(e.message, /'stdio-postgres-module'/)),
    );
  });

  test('a missing file fails naming the rule', async () => {
    const { version } = stdSource();
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    await assert.rejects(
      applyRestriction(empty, version),
      plrustError('STD_RULE_MISMATCH', (e) => assert.match(e.message, /does not exist/)),
    );
  });

  test('a rule cannot reach outside library/', async () => {
    const dir = path.join(tmp, 'escape');
    fs.mkdirSync(dir);
    await assert.rejects(
      applyRestriction(dir, '1.0.0', [set('>=1.0.0', [replaceRule({ file: '../outside.rs' })])]),
      plrustError('STD_RULES_INVALID'),
    );
  });
});

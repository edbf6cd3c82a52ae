/**
 * The cost of the runaway-code checkpoints that src/analysis/instrument.ts
 * inserts. Each function of bench/fixtures/checkpoint.sql is compiled twice
 * by the real pipeline (generateCrate + rustcArgs against the shared
 * toolchain): once as plrust compiles it, once from the uninstrumented
 * source with the wrapper's entry checkpoint removed too, so that the second
 * library has no checkpoint at all. Both run in the C test host
 * (test/fixtures/host); the int4 addition also runs in SQL, where the
 * uninstrumented library replaces the compiled one in the artifacts table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, RUSTC, resolvedToolchain, sharedInfo, type SharedInfo } from './common.js';
import {
  fmtMs,
  fmtPct,
  interleave,
  median,
  runCount,
  sharedMachineNote,
  table,
  type Measurement,
  type Variant,
} from './stats.js';
import { removeScratch, scratchDir, step } from './scratch.js';
import { timedSession, withPlrustCluster } from './pg.js';
import { buildHost } from '../test/helpers/host.js';
import { cleanEnv } from '../test/helpers/cli.js';
import { parseSqlFile } from '../src/functions/sql-file.js';
import { CHECKPOINT_CALL, instrument } from '../src/analysis/instrument.js';
import { generateCrate, rustcArgs, RUSTC_ENV, USER_MODULE_FILE, WRAPPER_FILE } from '../src/compile/generate.js';
import type { FunctionDef } from '../src/functions/definition.js';
import { targetOf } from '../src/toolchain/store.js';
import { exec } from '../src/util/exec.js';
import { sha256File } from '../src/util/sha256.js';

const HOST_RUNS = runCount(10);
const SQL_RUNS = runCount(9);
const LOOP_ITERATIONS = 200_000_000;
const CALLS = 20_000_000;
const SQL_ROWS = 1_000_000;

/** As plrust compiles it, or with no checkpoint at all. */
type Checkpoints = 'instrumented' | 'bare';

interface Library {
  path: string;
  /** Checkpoint calls in the generated user module. */
  checkpoints: number;
}

function definitions(sql: string, file: string): Map<string, FunctionDef> {
  const parsed = parseSqlFile(sql, file);
  return new Map(parsed.functions.map((d) => [d.sqlName, d]));
}

/** Compiles `def` for x86_64 as plrust does, or with every checkpoint left out. */
async function compile(dir: string, tc: SharedInfo, def: FunctionDef, variant: Checkpoints): Promise<Library> {
  const crate = generateCrate(def, variant === 'instrumented' ? instrument(def.source, 'fn-body') : def.source);
  // The wrapper's own entry checkpoint (in the generated signature line) goes too.
  const userModule = variant === 'instrumented' ? crate.userModule : crate.userModule.replace(CHECKPOINT_CALL, '');
  const checkpoints = userModule.split(CHECKPOINT_CALL).length - 1;
  if (variant === 'bare' && checkpoints !== 0)
    throw new Error(`${def.sqlName}: the uninstrumented module still has ${checkpoints} checkpoints`);
  const src = path.join(dir, `${def.sqlName}-${variant}`);
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, WRAPPER_FILE), crate.source);
  fs.writeFileSync(path.join(src, USER_MODULE_FILE), userModule);
  const t = targetOf(resolvedToolchain(tc), 'x86_64');
  const out = path.join(src, 'lib.so');
  const r = await exec(
    RUSTC,
    rustcArgs({
      sysroot: t.sysrootPath,
      targetSpec: t.specPath,
      runtimeRlib: t.runtimePath,
      src: path.join(src, WRAPPER_FILE),
      out,
    }),
    {
      env: { ...cleanEnv(), ...RUSTC_ENV },
      cwd: src,
    },
  );
  if (r.code !== 0) throw new Error(`compiling ${def.sqlName} (${variant}) failed:\n${r.stderr}`);
  return { path: out, checkpoints };
}

/** Host runs must succeed, and both variants of a function must compute the same result. */
function sameResult(seen: Map<string, string>, key: string) {
  return (m: Measurement): void => {
    const line = JSON.parse(m.stdout.trim()) as { status: string; result?: unknown };
    if (line.status !== 'ok') throw new Error(`the host reported ${m.stdout.trim()}`);
    const result = JSON.stringify(line.result);
    const before = seen.get(key);
    if (before !== undefined && before !== result)
      throw new Error(`${key}: result ${result} differs from ${before} (the other variant)`);
    seen.set(key, result);
  };
}

interface HostFigures {
  name: string;
  unit: 'iteration' | 'call';
  n: number;
  checkpointsInstrumented: number;
  perUnitNs: Record<Checkpoints, number>;
}

async function hostFigures(dir: string, tc: SharedInfo): Promise<HostFigures[]> {
  const defs = definitions(
    fs.readFileSync(path.join(FIXTURES, 'checkpoint.sql'), 'utf8'),
    'bench/fixtures/checkpoint.sql',
  );
  const host = buildHost('x86_64', path.join(dir, 'host'));
  const cases = [
    { name: 'spin_while', unit: 'iteration' as const, n: LOOP_ITERATIONS },
    { name: 'spin_fold', unit: 'iteration' as const, n: LOOP_ITERATIONS },
    { name: 'add_int4', unit: 'call' as const, n: CALLS },
  ];
  const libs = new Map<string, Library>();
  for (const c of cases) {
    const def = defs.get(c.name);
    if (!def) throw new Error(`bench/fixtures/checkpoint.sql has no function ${c.name}`);
    for (const v of ['instrumented', 'bare'] as const)
      libs.set(`${c.name}/${v}`, await step(`compiling ${c.name} (${v})`, () => compile(dir, tc, def, v)));
  }
  const seen = new Map<string, string>();
  const variants: Variant[] = cases.flatMap((c) =>
    (['instrumented', 'bare'] as const).flatMap((v) => {
      const lib = libs.get(`${c.name}/${v}`)!.path;
      // Big and small runs of the same library: the difference is the loop (or the calls), without process start-up and dlopen.
      const [big, small] =
        c.unit === 'iteration'
          ? [
              [lib, String(c.n)],
              [lib, '0'],
            ]
          : [
              ['--repeat', String(c.n), lib, '1', '2'],
              ['--repeat', '1', lib, '1', '2'],
            ];
      return [
        { name: `${c.name}/${v}/big`, cmd: host, args: big, check: sameResult(seen, `${c.name}/big`) },
        { name: `${c.name}/${v}/small`, cmd: host, args: small, check: sameResult(seen, `${c.name}/small`) },
      ];
    }),
  );
  const r = interleave(variants, HOST_RUNS, 1);
  return cases.map((c) => {
    const per = (v: Checkpoints) =>
      ((r.get(`${c.name}/${v}/big`)!.wallMs - r.get(`${c.name}/${v}/small`)!.wallMs) * 1e6) / c.n;
    return {
      name: c.name,
      unit: c.unit,
      n: c.n,
      checkpointsInstrumented: libs.get(`${c.name}/instrumented`)!.checkpoints,
      perUnitNs: { instrumented: per('instrumented'), bare: per('bare') },
    };
  });
}

const SQL_ADD = `CREATE FUNCTION rs_add(a int4, b int4) RETURNS int4 STRICT IMMUTABLE PARALLEL SAFE LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
CREATE FUNCTION rs_add_bare(x int4, y int4) RETURNS int4 STRICT IMMUTABLE PARALLEL SAFE LANGUAGE plrust AS $$ Ok(Some(x + y)) $$;`;

type SqlFigures = Record<'floor' | 'instrumented' | 'bare', number[]>;

/**
 * rs_add and rs_add_bare are the same code under different definition
 * hashes (the argument names differ), so replacing rs_add_bare's x86_64
 * artifact leaves rs_add as plrust compiled it.
 */
async function sqlFigures(dir: string): Promise<SqlFigures> {
  return withPlrustCluster({ jit: 'off' }, async ({ pg, tc }) => {
    const setup = await timedSession(pg);
    try {
      await step('creating the SQL functions', () => setup.run(SQL_ADD));
      const def = definitions(SQL_ADD, 'bench').get('rs_add_bare')!;
      const bare = await step('compiling rs_add_bare without checkpoints', () => compile(dir, tc, def, 'bare'));
      const hex = fs.readFileSync(bare.path).toString('hex');
      const schema = (
        await setup.run(`SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'plrust';`)
      ).trim();
      const updated = await setup.run(
        `UPDATE ${schema}.artifacts SET library = decode('${hex}', 'hex'), sha256 = '${await sha256File(bare.path)}' ` +
          `WHERE definition_hash = ${schema}.definition_hash('rs_add_bare(int4,int4)'::regprocedure) AND arch = 'x86_64' RETURNING 1;`,
      );
      if (updated.trim() !== '1')
        throw new Error(`replacing rs_add_bare's x86_64 artifact updated no row (${updated.trim() || 'empty result'})`);
    } finally {
      await setup.close();
    }
    // Each round runs in a new backend, which loads both libraries afresh:
    // where they land in memory shifts a call's cost by a few nanoseconds,
    // so one backend alone would measure its own layout as much as the
    // checkpoints. The order of the two alternates for the same reason.
    const sumOfI = (BigInt(SQL_ROWS) * BigInt(SQL_ROWS + 1)) / 2n;
    const queries = { floor: 'i', instrumented: 'rs_add(i, 1)', bare: 'rs_add_bare(i, 1)' };
    const times: SqlFigures = { floor: [], instrumented: [], bare: [] };
    for (let round = 0; round < SQL_RUNS; round++) {
      const s = await timedSession(pg);
      try {
        const order: (keyof typeof queries)[] =
          round % 2 ? ['floor', 'bare', 'instrumented'] : ['floor', 'instrumented', 'bare'];
        for (let pass = 0; pass < 2; pass++) {
          for (const k of order) {
            const r = await s.time(`SELECT sum(${queries[k]}) FROM generate_series(1, ${SQL_ROWS}) i;`);
            const expected = String(k === 'floor' ? sumOfI : sumOfI + BigInt(SQL_ROWS));
            if (r.out !== expected)
              throw new Error(`SELECT sum(${queries[k]}) returned ${r.out}, expected ${expected}`);
            // The first pass loads the libraries and warms the backend.
            if (pass === 1) times[k].push(r.ms);
          }
        }
      } finally {
        await s.close();
      }
    }
    return times;
  });
}

const ns = (x: number) => `${x.toFixed(2)} ns`;

export async function benchCheckpoint(): Promise<string> {
  const tc = await step('checkpoint: the shared toolchain', sharedInfo);
  const dir = scratchDir('checkpoint');
  try {
    const host = await step('checkpoint: host timing', () => hostFigures(dir, tc));
    const sql = await step('checkpoint: SQL timing', () => sqlFigures(dir));
    const hostRows = host.map((h) => {
      const diff = h.perUnitNs.instrumented - h.perUnitNs.bare;
      return [
        `\`${h.name}\``,
        `${h.checkpointsInstrumented} (${h.unit === 'iteration' ? '2 per call + 1 per iteration' : '2 per call'})`,
        `per ${h.unit}, ${h.n.toLocaleString('en-US')} ${h.unit}s`,
        ns(h.perUnitNs.instrumented),
        ns(h.perUnitNs.bare),
        `${ns(diff)} (${h.perUnitNs.bare > 0 ? `${((h.perUnitNs.instrumented / h.perUnitNs.bare - 1) * 100).toFixed(0)} %` : 'n/a'})`,
      ];
    });
    const [floorMs, instrumentedMs, bareMs] = [median(sql.floor), median(sql.instrumented), median(sql.bare)] as [
      number,
      number,
      number,
    ];
    const perCall = (ms: number) => ((ms - floorMs) * 1e6) / SQL_ROWS;
    const sqlDiff = instrumentedMs - bareMs;
    const loopCost =
      host.find((h) => h.name === 'spin_while')!.perUnitNs.instrumented -
      host.find((h) => h.name === 'spin_while')!.perUnitNs.bare;
    const callCost =
      host.find((h) => h.name === 'add_int4')!.perUnitNs.instrumented -
      host.find((h) => h.name === 'add_int4')!.perUnitNs.bare;
    // The checkpoints' cost shows only when it exceeds how much one query varies between sessions.
    const resolved = Math.abs(sqlDiff) > Math.max(...sql.instrumented) - Math.min(...sql.instrumented);
    const range = (xs: number[]) => `${fmtMs(Math.min(...xs))}–${fmtMs(Math.max(...xs))}`;
    return [
      `${sharedMachineNote({ cpu: false })} Host figures: median of ${HOST_RUNS} runs per variant, interleaved. SQL figures: median of ${SQL_RUNS} runs per query, each run in a new session after one unmeasured pass (psql \\timing), jit off.`,
      '',
      `Every function is compiled twice by the real pipeline for x86_64 (\`generateCrate\` + \`rustcArgs\`, the shared toolchain): as plrust compiles it (\`instrument(body, 'fn-body')\`), and from the uninstrumented body with the wrapper's entry checkpoint removed as well, so the second library has none. \`bench/fixtures/checkpoint.sql\` has the functions: \`spin_while\` (a \`while\` loop of a multiply-add), \`spin_fold\` (the same as \`(0..n).fold(…)\`: the checkpoint sits in the closure) and \`add_int4\` (no loop). In the C test host, per-iteration cost = (time with n = ${LOOP_ITERATIONS.toLocaleString('en-US')} − time with n = 0) / n; per-call cost = (time of ${CALLS.toLocaleString('en-US')} calls − 1 call) / ${CALLS.toLocaleString('en-US')}, which takes process start-up and dlopen out.`,
      '',
      table(
        ['function', 'checkpoints in the code', 'measured', 'instrumented', 'no checkpoints', 'checkpoint cost'],
        hostRows,
      ),
      '',
      `In SQL, \`SELECT sum(f(i, 1)) FROM generate_series(1, ${SQL_ROWS.toLocaleString('en-US')}) i\` with the int4 addition as plrust compiles it and with the uninstrumented library (put into the artifacts table in place of the compiled one; a new session loads it), against the executor's floor \`sum(i)\` (no call):`,
      '',
      table(
        ['query', 'median', 'min–max', 'per call above the floor'],
        [
          ['`sum(i)` (floor)', fmtMs(floorMs), range(sql.floor), '—'],
          [
            'PL/Rust as compiled (2 entry checkpoints)',
            fmtMs(instrumentedMs),
            range(sql.instrumented),
            ns(perCall(instrumentedMs)),
          ],
          ['PL/Rust without checkpoints', fmtMs(bareMs), range(sql.bare), ns(perCall(bareMs))],
          [
            'difference',
            fmtMs(sqlDiff),
            '',
            `${ns((sqlDiff * 1e6) / SQL_ROWS)} per call (${fmtPct(instrumentedMs / bareMs - 1)} of the query)`,
          ],
        ],
      ),
      '',
      `The checkpoint is inlined into the user's code (the runtime's \`checkpoint()\` is small enough for cross-crate inlining): a volatile load of the interrupt flag and a comparison of the stack pointer with the stack limit. In a loop whose body is a single multiply-add that is ${ns(loopCost)} per iteration, several times the body itself (the check also keeps LLVM from unrolling the loop); real loop bodies do more work per check. Per call, the two entry checkpoints measure ${ns(callCost)} in the host and ${ns((sqlDiff * 1e6) / SQL_ROWS)} in SQL (${fmtPct(instrumentedMs / bareMs - 1)} of the query), while one query's runs in different sessions spread over ${range(sql.instrumented)} (as compiled) and ${range(sql.bare)} (without checkpoints)${resolved ? '.' : ': the per-call cost is below what these measurements resolve.'}`,
    ].join('\n');
  } finally {
    removeScratch(dir);
  }
}

/**
 * plrust.isolation = process against in-process (docs/ISOLATION.md): the
 * same compiled functions, once owned by a superuser (in-process) and once
 * by a role whose functions run in a runner process, on the int-add, text
 * and compute-heavy shapes, and a set-returning function of 1,000,000
 * rows (one call whose rows cross back in batches). Per-call figures are
 * above the query's floor (the executor alone), so they are the cost of the
 * call itself.
 */
import { fmtMs, fmtRatio, goal, median, runCount, sharedMachineNote, table } from './stats.js';
import { step } from './scratch.js';
import { timedSession, withPlrustCluster, type TimedSession } from './pg.js';

const RUNS = runCount(7);
const ADD_ROWS = 200_000;
const TEXT_ROWS = 200_000;
const HEAVY_ROWS = 2_000;
const HEAVY_ITERATIONS = 200_000;
const SRF_ROWS = 1_000_000;

const BODIES = (suffix: string) => `
CREATE FUNCTION add_${suffix}(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
CREATE FUNCTION rev_${suffix}(s text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(s.chars().rev().collect())) $$;
CREATE FUNCTION heavy_${suffix}(seed int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    let mut x = seed as u64 | 1;
    for _ in 0..${HEAVY_ITERATIONS} {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    Ok(Some((x >> 1) as i64))
$$;
CREATE FUNCTION series_${suffix}(n int8) RETURNS SETOF int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((1..=n).map(Some))))
$$;`;

interface Shape {
  id: string;
  label: string;
  rows: number;
  floor: string;
  query: (suffix: string) => string;
}

const SHAPES: Shape[] = [
  {
    id: 'add',
    label: 'int-add `Ok(Some(a + b))`',
    rows: ADD_ROWS,
    floor: `SELECT sum(i) FROM generate_series(1, ${ADD_ROWS}) i;`,
    query: (s) => `SELECT sum(add_${s}(i, 1)) FROM generate_series(1, ${ADD_ROWS}) i;`,
  },
  {
    id: 'text',
    label: 'text `s.chars().rev().collect()` (32 bytes)',
    rows: TEXT_ROWS,
    floor: 'SELECT sum(length(s)) FROM iso_words;',
    query: (s) => `SELECT sum(length(rev_${s}(s))) FROM iso_words;`,
  },
  {
    id: 'heavy',
    label: `compute-heavy (${HEAVY_ITERATIONS} xorshift rounds)`,
    rows: HEAVY_ROWS,
    floor: `SELECT sum(i) FROM generate_series(1, ${HEAVY_ROWS}) i;`,
    query: (s) => `SELECT sum(heavy_${s}(i) % 1000) FROM generate_series(1, ${HEAVY_ROWS}) i;`,
  },
];

/** One call, many rows: the set's rows cross back in batches, so the whole query is the figure. */
const SRF = {
  label: `\`SetOfIterator\` of ${SRF_ROWS.toLocaleString('en-US')} int8 rows, one call`,
  floor: `SELECT sum(i) FROM generate_series(1, ${SRF_ROWS}::int8) i;`,
  query: (s: string) => `SELECT sum(x) FROM series_${s}(${SRF_ROWS}) x;`,
};

/** The queries round-robin (one warm-up round), so a change in the machine's load hits all alike. */
async function medians(s: TimedSession, sqls: string[]): Promise<{ ms: number; out: string }[]> {
  const times: number[][] = sqls.map(() => []);
  const outs: string[] = sqls.map(() => '');
  for (let round = 0; round < RUNS + 1; round++) {
    for (const [i, sql] of sqls.entries()) {
      const r = await s.time(sql);
      if (round > 0) times[i]!.push(r.ms);
      outs[i] = r.out;
    }
  }
  return sqls.map((_, i) => ({ ms: median(times[i]!), out: outs[i]! }));
}

export async function benchIsolation(): Promise<string> {
  return withPlrustCluster({ jit: 'off' }, async ({ pg }) => {
    await step('functions for both modes', async () => {
      await pg.psql(
        `CREATE ROLE isolated LOGIN; GRANT CREATE ON SCHEMA public TO isolated;
         ALTER ROLE isolated SET plrust.isolation = 'process';
         CREATE TABLE iso_words AS SELECT md5(i::text) AS s FROM generate_series(1, ${TEXT_ROWS}) i;
         GRANT SELECT ON iso_words TO isolated; VACUUM ANALYZE iso_words;
         ${BODIES('in')}`,
      );
      await pg.psql(BODIES('iso'), { user: 'isolated' });
    });
    const s = await timedSession(pg);
    const rows: string[][] = [];
    let srf = { floor: 0, inProcess: 0, process: 0 };
    const perCall = new Map<string, { inProcess: number; process: number; ratio: number }>();
    try {
      // first calls start the runner and load the libraries: not part of the figures
      await s.run(`SELECT add_iso(1, 1), rev_iso('x'), heavy_iso(1), add_in(1, 1), rev_in('x'), heavy_in(1),
        (SELECT count(*) FROM series_iso(1)), (SELECT count(*) FROM series_in(1));`);
      for (const shape of SHAPES) {
        const [floor, inProcess, isolated] = (await step(shape.id, () =>
          medians(s, [shape.floor, shape.query('in'), shape.query('iso')]),
        )) as [{ ms: number; out: string }, { ms: number; out: string }, { ms: number; out: string }];
        if (inProcess.out !== isolated.out)
          throw new Error(`${shape.id}: in-process returned ${inProcess.out}, process ${isolated.out}`);
        const us = (ms: number) => ((ms - floor.ms) * 1000) / shape.rows;
        perCall.set(shape.id, {
          inProcess: us(inProcess.ms),
          process: us(isolated.ms),
          ratio: (isolated.ms - floor.ms) / (inProcess.ms - floor.ms),
        });
        rows.push([
          shape.label,
          String(shape.rows),
          fmtMs(inProcess.ms),
          fmtMs(isolated.ms),
          `${us(inProcess.ms).toFixed(2)} µs`,
          `${us(isolated.ms).toFixed(2)} µs`,
          `${(us(isolated.ms) - us(inProcess.ms)).toFixed(2)} µs`,
          fmtRatio(perCall.get(shape.id)!.ratio),
        ]);
      }
      const [floor, inProcess, isolated] = (await step('srf', () =>
        medians(s, [SRF.floor, SRF.query('in'), SRF.query('iso')]),
      )) as [{ ms: number; out: string }, { ms: number; out: string }, { ms: number; out: string }];
      if (inProcess.out !== isolated.out || inProcess.out !== floor.out)
        throw new Error(
          `srf: generate_series summed to ${floor.out}, in-process ${inProcess.out}, process ${isolated.out}`,
        );
      srf = { floor: floor.ms, inProcess: inProcess.ms, process: isolated.ms };
    } finally {
      await s.close();
    }
    const add = perCall.get('add')!;
    const heavy = perCall.get('heavy')!;
    return [
      `Each query's median of ${RUNS} runs in one session, the floor and both modes taking turns after one warm-up round; the same function bodies owned by a superuser (in-process) and by a role with \`plrust.isolation = process\`. Per call = (query − floor) / rows, the floor being the same query without the call.`,
      '',
      table(
        [
          'shape',
          'rows',
          'in-process',
          'process',
          'per call in-process',
          'per call process',
          'isolation adds',
          'process / in-process',
        ],
        rows,
      ),
      '',
      `- Goal: a tiny call's round trip under 5 µs: ${add.process.toFixed(2)} µs per int-add call — ${goal(add.process < 5)}.`,
      `- Goal: compute-heavy within 1.2× of in-process: ${fmtRatio(heavy.ratio)} — ${goal(heavy.ratio <= 1.2)}.`,
      '',
      `A set-returning function: the rows are made in the runner and sent to the backend in batches of about 256 kB (docs/SRF.md), which puts them in its tuplestore as in-process. Medians of ${RUNS} runs as above; the floor is \`generate_series\` (also a set-returning function) summed the same way.`,
      '',
      table(
        ['set', 'floor', 'in-process', 'process', 'process / in-process', 'isolation adds per row'],
        [
          [
            SRF.label,
            fmtMs(srf.floor),
            fmtMs(srf.inProcess),
            fmtMs(srf.process),
            fmtRatio(srf.process / srf.inProcess),
            `${(((srf.process - srf.inProcess) * 1e6) / SRF_ROWS).toFixed(0)} ns`,
          ],
        ],
      ),
      '',
      sharedMachineNote({ cpu: false }),
    ].join('\n');
  });
}

/**
 * What issue 14's types cost per call: a numeric, a timestamptz, a jsonb and
 * a composite function, each against PL/pgSQL doing the same and against
 * the built-in C function behind the operator where one exists. One
 * cluster, psql's \timing in one session; every variant is first checked
 * to give the built-in's result on every row.
 */
import { fmtMs, fmtRatio, median, runCount, sharedMachineNote, table } from './stats.js';
import { step } from './scratch.js';
import { timedSession, withPlrustCluster, type TimedSession } from './pg.js';

const RUNS = runCount(5);
const ROWS = 200_000;

const SETUP = `
CREATE TYPE pair AS (a int4, b int4);
CREATE TABLE vals AS
SELECT round((random() * 1e6)::numeric, 4) AS n1,
       round((random() * 1e3)::numeric, 2) AS n2,
       timestamptz '2026-01-01 00:00+00' + random() * interval '3650 days' AS t,
       make_interval(months => (random() * 30)::int, days => (random() * 60)::int, secs => random() * 86400) AS i,
       jsonb_build_object('k1', i, 'k2', md5(i::text), 'k3', i * 2, 'k4', ARRAY[i, i + 1], 'k5', jsonb_build_object('x', i), 'k6', true) AS j,
       ROW(i, i % 97)::pair AS p
FROM generate_series(1, ${ROWS}) i;
VACUUM ANALYZE vals;

CREATE FUNCTION rs_num(a numeric, b numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
CREATE FUNCTION pl_num(a numeric, b numeric) RETURNS numeric STRICT LANGUAGE plpgsql AS $$ BEGIN RETURN a + b; END $$;
CREATE FUNCTION rs_ts(t timestamptz, i interval) RETURNS timestamptz STRICT LANGUAGE plrust AS $$ Ok(Some(t + i)) $$;
CREATE FUNCTION pl_ts(t timestamptz, i interval) RETURNS timestamptz STRICT LANGUAGE plpgsql AS $$ BEGIN RETURN t + i; END $$;
CREATE FUNCTION rs_jb(j jsonb) RETURNS jsonb STRICT LANGUAGE plrust AS $$ Ok(j.0.get("k5").cloned().map(JsonB)) $$;
CREATE FUNCTION pl_jb(j jsonb) RETURNS jsonb STRICT LANGUAGE plpgsql AS $$ BEGIN RETURN j -> 'k5'; END $$;
CREATE FUNCTION rs_pair(p pair) RETURNS int4 STRICT LANGUAGE plrust AS $$
    Ok(Some(p.get_by_name::<i32>("a")?.unwrap_or(0) + p.get_by_name::<i32>("b")?.unwrap_or(0)))
$$;
CREATE FUNCTION pl_pair(p pair) RETURNS int4 STRICT LANGUAGE plpgsql AS $$ BEGIN RETURN p.a + p.b; END $$;
`;

interface Family {
  label: string;
  /** The scan that every variant's query does, without the call. */
  floor: string;
  /** The reference: the built-in C function, or the plain SQL expression where there is none. */
  reference: { label: string; expr: string };
  plpgsql: { label: string; expr: string };
  plrust: { label: string; expr: string };
}

const FAMILIES: Family[] = [
  {
    label: 'numeric: a + b',
    floor: 'n1',
    reference: { label: 'C: built-in `numeric_add`', expr: 'numeric_add(n1, n2)' },
    plpgsql: { label: 'PL/pgSQL: `RETURN a + b`', expr: 'pl_num(n1, n2)' },
    plrust: { label: 'PL/Rust: `Ok(Some(a + b))` (`AnyNumeric`)', expr: 'rs_num(n1, n2)' },
  },
  {
    label: 'timestamptz + interval',
    floor: 't',
    reference: { label: 'C: built-in `timestamptz_pl_interval`', expr: 'timestamptz_pl_interval(t, i)' },
    plpgsql: { label: 'PL/pgSQL: `RETURN t + i`', expr: 'pl_ts(t, i)' },
    plrust: { label: 'PL/Rust: `Ok(Some(t + i))` (`TimestampWithTimeZone`)', expr: 'rs_ts(t, i)' },
  },
  {
    label: "jsonb: one field (`j -> 'k5'`)",
    floor: 'j',
    reference: { label: 'C: built-in `jsonb_object_field`', expr: "jsonb_object_field(j, 'k5')" },
    plpgsql: { label: "PL/pgSQL: `RETURN j -> 'k5'`", expr: 'pl_jb(j)' },
    plrust: { label: 'PL/Rust: `j.0.get("k5")` (`JsonB`)', expr: 'rs_jb(j)' },
  },
  {
    label: 'composite: a + b of a `pair`',
    floor: 'p',
    reference: { label: 'no function: the expression `(p).a + (p).b`', expr: '(p).a + (p).b' },
    plpgsql: { label: 'PL/pgSQL: `RETURN p.a + p.b`', expr: 'pl_pair(p)' },
    plrust: { label: 'PL/Rust: `get_by_name` twice (`PgHeapTuple`)', expr: 'rs_pair(p)' },
  },
];

/** From `perf record` of the PL/Rust queries' backends on this machine; a finding, not a measurement of this run. */
const WHERE_THE_TIME_GOES =
  "Where the PL/Rust time goes (`perf` profiles of these queries): for jsonb, PostgreSQL printing the argument (`jsonb_out`) and reading the result (`jsonb_in`), and serde_json parsing the whole document into a `Value` — upstream pgrx crosses jsonb as text the same way; for numeric, `numeric_out`/`numeric_in` around the runtime's parse and print; for timestamptz, the two UTC-offset questions `t + i` asks the backend (answered without a memory context or error trap); for a composite, reading its fields into the row value (the row type's column list is cached per backend).";

const nsPerCall = (ms: number, floor: number) => `${(((ms - floor) * 1e6) / ROWS).toFixed(0)} ns`;

/** Every variant must compute what the reference computes, on every row, before it is timed. */
async function checkSame(s: TimedSession, f: Family): Promise<void> {
  for (const v of [f.plpgsql, f.plrust]) {
    const differ = (await s.run(`SELECT count(*) FROM vals WHERE ${v.expr} IS DISTINCT FROM ${f.reference.expr};`))
      .trim()
      .split('\n')
      .pop();
    if (differ?.trim() !== '0') throw new Error(`${v.expr} differs from ${f.reference.expr} on ${differ} rows`);
  }
}

async function measureFamily(s: TimedSession, f: Family): Promise<string> {
  const queries = [
    { label: `\`count(${f.floor})\`: the scan alone (floor)`, sql: `SELECT count(${f.floor}) FROM vals;` },
    ...[f.reference, f.plpgsql, f.plrust].map((v) => ({ label: v.label, sql: `SELECT count(${v.expr}) FROM vals;` })),
  ];
  const times = queries.map(() => [] as number[]);
  for (let round = 0; round < RUNS + 1; round++) {
    for (const [k, q] of queries.entries()) {
      const r = await s.time(q.sql);
      if (r.out.trim().split('\n').pop()?.trim() !== String(ROWS))
        throw new Error(`${q.sql} counted ${r.out}, expected ${ROWS}`);
      if (round > 0) times[k]!.push(r.ms);
    }
  }
  const [floor, ref, plpgsql, plrust] = times.map(median) as [number, number, number, number];
  const rows = queries.map((q, k) => {
    const ms = median(times[k]!);
    return [
      q.label,
      fmtMs(ms),
      k === 0 ? '—' : nsPerCall(ms, floor),
      k === 0 ? '—' : fmtRatio((ms - floor) / (ref - floor)),
    ];
  });
  return [
    `### ${f.label}`,
    '',
    table(['', 'median', 'per call above the floor', 'vs the reference (above the floor)'], rows),
    '',
    `Above the floor, a PL/Rust call costs ${fmtRatio((plrust - floor) / (plpgsql - floor))} of a PL/pgSQL call (the whole query: PL/pgSQL ÷ PL/Rust = ${fmtRatio(plpgsql / plrust)}).`,
  ].join('\n');
}

export async function benchTypes(): Promise<string> {
  return withPlrustCluster({ jit: 'off' }, async ({ pg }) => {
    const s = await timedSession(pg);
    try {
      await step(`creating ${ROWS.toLocaleString('en-US')} rows and the functions`, () => s.run(SETUP));
      await s.run("SET TimeZone = 'Europe/Berlin';");
      const parts: string[] = [];
      for (const f of FAMILIES) {
        await step(`checking ${f.label}`, () => checkSame(s, f));
        parts.push(await step(f.label, () => measureFamily(s, f)));
      }
      return [
        `${sharedMachineNote({ cpu: false })} One cluster (\`jit = off\`), PL/Rust installed by \`plrust install\`, session TimeZone Europe/Berlin. Each query is \`SELECT count(f(…)) FROM vals\` over ${ROWS.toLocaleString('en-US')} rows of a table holding the arguments (random numerics of 10 and 5 digits, timestamps over ten years with intervals of months, days and seconds, 6-key jsonb objects, \`pair\` rows); median of ${RUNS} runs per query after 1 warm-up round, the queries interleaved. The floor is the same scan counting the argument column without a call. Before timing, every variant was checked to give the reference's result on every row (\`IS DISTINCT FROM\` counts 0).`,
        '',
        `How the values cross into PL/Rust (docs/TYPES.md): numeric as its text form (\`numeric_out\`, parsed by the runtime; the result through \`numeric_in\`), jsonb as its JSON text (serde_json parses it; the result through \`jsonb_in\`), timestamptz and interval as their fixed-size bytes (the session's offsets asked of PostgreSQL once per call that needs them), a composite as one bytes value holding its columns' types and values.`,
        '',
        ...parts.flatMap((p) => [p, '']),
        WHERE_THE_TIME_GOES,
      ]
        .join('\n')
        .trimEnd();
    } finally {
      await s.close();
    }
  });
}

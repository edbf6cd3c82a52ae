/**
 * What issue 15 added, against PL/pgSQL doing the same: a query per call
 * (`Spi::get_one_with_args` / `SELECT … INTO`), a BEFORE INSERT row trigger
 * that changes NEW, and a set of 1,000,000 rows (`SetOfIterator` /
 * `RETURN NEXT`). One cluster, timed by psql's \timing in one session.
 */
import { fmtMs, fmtRatio, goal, median, runCount, sharedMachineNote, table } from './stats.js';
import { step } from './scratch.js';
import { timedSession, withPlrustCluster } from './pg.js';

const RUNS = runCount(5);
const CALLS = 20_000;
const INSERTS = 100_000;
const SET_ROWS = 1_000_000;

const SETUP = `
CREATE TABLE kv (id int PRIMARY KEY, v int);
INSERT INTO kv SELECT i, i * 2 FROM generate_series(1, 1000) i;
VACUUM ANALYZE kv;
CREATE FUNCTION rs_lookup(k int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args("SELECT v FROM kv WHERE id = $1", vec![(PgBuiltInOids::INT4OID.oid(), k.into_datum())])?)
$$;
CREATE FUNCTION plpgsql_lookup(k int) RETURNS int STRICT LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
    SELECT v INTO r FROM kv WHERE id = k;
    RETURN r;
END $$;

CREATE TABLE rs_rows (id int, v int);
CREATE TABLE plpgsql_rows (id int, v int);
CREATE FUNCTION rs_bump() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?;
    let v = row.get_by_name::<i32>("v")?.unwrap_or(0);
    row.set_by_name("v", v + 1)?;
    Ok(Some(row))
$$;
CREATE FUNCTION plpgsql_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.v := NEW.v + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER bump BEFORE INSERT ON rs_rows FOR EACH ROW EXECUTE FUNCTION rs_bump();
CREATE TRIGGER bump BEFORE INSERT ON plpgsql_rows FOR EACH ROW EXECUTE FUNCTION plpgsql_bump();

CREATE FUNCTION rs_series(n int8) RETURNS SETOF int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((1..=n).map(Some))))
$$;
CREATE FUNCTION plpgsql_series(n int8) RETURNS SETOF int8 STRICT LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        RETURN NEXT i;
    END LOOP;
END $$;
`;

interface Pair {
  label: string;
  plrust: string;
  plpgsql: string;
  /** Run before each timed statement (not timed). */
  reset?: string;
  expected: string;
}

const PAIRS: Pair[] = [
  {
    label: `a query per call (${CALLS.toLocaleString('en-US')} calls)`,
    plrust: `SELECT sum(rs_lookup(i % 1000 + 1)) FROM generate_series(1, ${CALLS}) i;`,
    plpgsql: `SELECT sum(plpgsql_lookup(i % 1000 + 1)) FROM generate_series(1, ${CALLS}) i;`,
    expected: String(Array.from({ length: CALLS }, (_, i) => ((i + 1) % 1000) + 1).reduce((a, k) => a + 2 * k, 0)),
  },
  {
    label: `a BEFORE INSERT row trigger changing NEW (${INSERTS.toLocaleString('en-US')} rows)`,
    plrust: `INSERT INTO rs_rows SELECT i, i FROM generate_series(1, ${INSERTS}) i;`,
    plpgsql: `INSERT INTO plpgsql_rows SELECT i, i FROM generate_series(1, ${INSERTS}) i;`,
    reset: 'TRUNCATE rs_rows, plpgsql_rows;',
    expected: '',
  },
  {
    label: `SETOF of ${SET_ROWS.toLocaleString('en-US')} rows`,
    plrust: `SELECT count(*) FROM rs_series(${SET_ROWS});`,
    plpgsql: `SELECT count(*) FROM plpgsql_series(${SET_ROWS});`,
    expected: String(SET_ROWS),
  },
];

export async function benchSpi(): Promise<string> {
  return withPlrustCluster({ jit: 'off' }, async ({ pg }) => {
    const s = await timedSession(pg);
    try {
      await step('creating the functions and tables', () => s.run(SETUP));
      const rows: string[][] = [];
      const goals: string[][] = [];
      for (const p of PAIRS) {
        const times = { plrust: [] as number[], plpgsql: [] as number[] };
        await step(p.label, async () => {
          for (let round = 0; round < RUNS + 1; round++) {
            for (const lang of ['plrust', 'plpgsql'] as const) {
              if (p.reset) await s.run(p.reset);
              const r = await s.time(p[lang]);
              if (r.out !== p.expected) throw new Error(`${p[lang]} returned ${r.out}, expected ${p.expected}`);
              if (round > 0) times[lang].push(r.ms);
            }
          }
        });
        const rs = median(times.plrust);
        const pl = median(times.plpgsql);
        rows.push([p.label, fmtMs(rs), fmtMs(pl), fmtRatio(pl / rs)]);
        goals.push([`PL/Rust faster than PL/pgSQL: ${p.label}`, fmtRatio(pl / rs), goal(rs < pl)]);
      }
      if ((await s.run('SELECT count(*) FROM rs_rows WHERE v <> id + 1;')).trim() !== '0')
        throw new Error('the PL/Rust trigger did not change every row');
      return [
        `${sharedMachineNote({ cpu: false })} One cluster (\`jit = off\`), PL/Rust installed by \`plrust install\`; median of ${RUNS} runs per statement after 1 warm-up round, PL/Rust and PL/pgSQL interleaved; psql's \`\\timing\` in one session. Both keep prepared plans; each PL/Rust query also runs in its own subtransaction (so that its error can be returned as a value), which PL/pgSQL needs only in a block with EXCEPTION; a PL/Rust trigger call makes two requests (the trigger's data, the returned row); PL/Rust's set is materialized like PL/pgSQL's.`,
        '',
        table(['', 'PL/Rust', 'PL/pgSQL', 'PL/pgSQL ÷ PL/Rust'], rows),
        '',
        table(['goal', 'measured', ''], goals),
      ].join('\n');
    } finally {
      await s.close();
    }
  });
}

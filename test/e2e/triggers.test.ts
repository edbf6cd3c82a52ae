/**
 * Trigger functions (docs/TRIGGERS.md) on a real PostgreSQL 15, written as
 * upstream PL/Rust writes them: BEFORE/AFTER/INSTEAD OF, ROW/STATEMENT,
 * INSERT/UPDATE/DELETE/TRUNCATE, modifying NEW, skipping a row, columns of
 * types PL/Rust reads as text (numeric, timestamptz), and misuse.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionsCluster } from '../helpers/functions-cluster.js';
import { type PgCluster } from '../helpers/pg-cluster.js';

const SETUP = `
CREATE TABLE dog (
    id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT,
    scritches INT NOT NULL DEFAULT 0,
    last_scritch TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE OR REPLACE FUNCTION dog_trigger() RETURNS trigger AS $$
    let tg_op = trigger.op()?;

    let my_row = match tg_op {
        INSERT => trigger.new().unwrap(),
        _ => trigger.old().unwrap()
    };
    let mut my_row = my_row.into_owned();

    let counter_field = "scritches";
    match my_row.get_by_name::<i32>(counter_field)? {
        Some(val) => my_row.set_by_name(counter_field, val + 1)?,
        None => (),
    }

    Ok(Some(my_row))
$$ LANGUAGE plrust;
CREATE TRIGGER dog_trigger BEFORE INSERT OR UPDATE ON dog FOR EACH ROW EXECUTE FUNCTION dog_trigger();

CREATE TABLE item (id int, name text, price numeric(10,2), tags text[]);
CREATE TABLE audit (line text);
CREATE FUNCTION item_before() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?.into_owned();
    if row.get_by_name::<String>("name")?.as_deref() == Some("skip") {
        return Ok(None);
    }
    let price: Option<AnyNumeric> = row.get_by_name("price")?;
    if price.is_none() {
        row.set_by_name("price", AnyNumeric::from(99) / AnyNumeric::from(100))?;
    }
    let mut tags: Vec<Option<String>> = row.get_by_name("tags")?.unwrap_or_default();
    tags.push(Some(trigger.extra_args()?.join("+")));
    row.set_by_name("tags", tags)?;
    row.set_by_index(2usize, row.get_by_index::<String>(std::num::NonZeroUsize::new(2).unwrap())?.map(|n| n.to_uppercase()))?;
    Ok(Some(row))
$$;
CREATE TRIGGER item_before BEFORE INSERT OR UPDATE ON item FOR EACH ROW EXECUTE FUNCTION item_before('x', 'y');
CREATE TABLE ledger (id int, amount numeric(10,2), at timestamptz, meta jsonb);
CREATE FUNCTION ledger_before() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?.into_owned();
    let amount: Option<AnyNumeric> = row.get_by_name("amount")?;
    row.set_by_name("amount", amount.map(|a| a * 3 / 2))?;
    let at: Option<TimestampWithTimeZone> = row.get_by_name("at")?;
    let later = at.and_then(|t| TimestampWithTimeZone::from_pg_epoch_microseconds(t.to_pg_epoch_microseconds() + 1_500_000).ok());
    row.set_by_name("at", later)?;
    let mut meta = row.get_by_name::<JsonB>("meta")?.map_or(serde_json::json!({}), |m| m.0);
    meta["seen"] = serde_json::json!(true);
    row.set_by_name("meta", JsonB(meta))?;
    Ok(Some(row))
$$;
CREATE TRIGGER ledger_before BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION ledger_before();
CREATE DOMAIN small AS int CHECK (VALUE < 10);
CREATE TABLE capped (v small);
CREATE FUNCTION tenfold() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?.into_owned();
    let v = row.get_by_name::<i32>("v")?;
    row.set_by_name("v", v.map(|v| v * 10))?;
    Ok(Some(row))
$$;
CREATE TRIGGER tenfold BEFORE INSERT ON capped FOR EACH ROW EXECUTE FUNCTION tenfold();
CREATE FUNCTION auditor() RETURNS trigger LANGUAGE plrust AS $$
    let new_id = trigger.new().map(|r| r.get_by_name::<i32>("id")).transpose()?.flatten();
    let old_id = trigger.old().map(|r| r.get_by_name::<i32>("id")).transpose()?.flatten();
    let line = format!(
        "{} {:?} {:?} {:?} {}.{} new={new_id:?} old={old_id:?}",
        trigger.name()?, trigger.when()?, trigger.level(), trigger.op()?,
        trigger.table_schema()?, trigger.table_name()?,
    );
    Spi::run_with_args("INSERT INTO audit VALUES ($1)", Some(vec![(PgBuiltInOids::TEXTOID.oid(), line.into_datum())]))?;
    Ok(None)
$$;
CREATE TRIGGER a_row AFTER INSERT OR UPDATE OR DELETE ON item FOR EACH ROW EXECUTE FUNCTION auditor();
CREATE TRIGGER a_stmt AFTER INSERT OR TRUNCATE ON item FOR EACH STATEMENT EXECUTE FUNCTION auditor();

CREATE VIEW item_view AS SELECT id, name FROM item;
CREATE FUNCTION view_insert() RETURNS trigger LANGUAGE plrust AS $$
    let new = trigger.new().ok_or("no new row")?;
    Spi::run_with_args(
        "INSERT INTO item (id, name, price) VALUES ($1, $2, 1)",
        Some(vec![
            (PgBuiltInOids::INT4OID.oid(), new.get_by_name::<i32>("id")?.into_datum()),
            (PgBuiltInOids::TEXTOID.oid(), new.get_by_name::<String>("name")?.into_datum()),
        ]),
    )?;
    Ok(Some(new))
$$;
CREATE TRIGGER view_insert INSTEAD OF INSERT ON item_view FOR EACH ROW EXECUTE FUNCTION view_insert();

CREATE TABLE guarded (id int, note text);
CREATE TABLE short (code varchar(3), codes varchar(2)[], note text DEFAULT 'x');
CREATE FUNCTION lengthen() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?;
    let code: String = row.get_by_name("code")?.unwrap_or_default();
    if code == "arr" {
        row.set_by_name("codes", vec![Some("abc".to_string())])?;
    } else {
        row.set_by_name("code", format!("{code}{code}"))?;
    }
    row.set_by_name("note", None::<String>)?;
    Ok(Some(row))
$$;
CREATE TRIGGER lengthen BEFORE INSERT ON short FOR EACH ROW EXECUTE FUNCTION lengthen();
CREATE FUNCTION wrong_type() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?.into_owned();
    row.set_by_name("id", "not a number".to_string())?;
    Ok(Some(row))
$$;
CREATE TRIGGER wrong_type BEFORE INSERT ON guarded FOR EACH ROW EXECUTE FUNCTION wrong_type();
`;

describe('PL/Rust trigger functions', () => {
  const cluster = functionsCluster('triggers', SETUP);
  let pg: PgCluster;
  before(() => {
    pg = cluster.pg;
  });

  test("upstream's dog example: BEFORE INSERT OR UPDATE modifies the row (a timestamptz column round-trips)", async () => {
    await pg.psql(`INSERT INTO dog (name) VALUES ('Nami')`);
    assert.deepEqual(await pg.query(`SELECT name, scritches, last_scritch <= now() FROM dog`), [['Nami', '1', 't']]);
    await pg.psql(`UPDATE dog SET last_scritch = '2024-01-02 03:04:05.678901+00' WHERE id = 1`);
    assert.deepEqual(await pg.query(`SELECT scritches, last_scritch = '2024-01-02 03:04:05.678901+00' FROM dog`), [
      ['2', 't'],
    ]);
  });

  test('NEW modified (numeric, array, set_by_index), a row skipped, AFTER ROW and STATEMENT, DELETE, TRUNCATE', async () => {
    await pg.psql(`INSERT INTO item VALUES (1, 'pen', NULL, '{a}'), (2, 'skip', 5, NULL), (3, 'ink', 2.5, NULL)`);
    assert.deepEqual(await pg.query(`SELECT id, name, price, tags FROM item ORDER BY id`), [
      ['1', 'PEN', '0.99', '{a,x+y}'],
      ['3', 'INK', '2.50', '{x+y}'],
    ]);
    await pg.psql(`DELETE FROM item WHERE id = 3; TRUNCATE item;`);
    assert.deepEqual(await pg.query(`SELECT line FROM audit`), [
      ['a_row After Row Insert public.item new=Some(1) old=None'],
      ['a_row After Row Insert public.item new=Some(3) old=None'],
      ['a_stmt After Statement Insert public.item new=None old=None'],
      ['a_row After Row Delete public.item new=None old=Some(3)'],
      ['a_stmt After Statement Truncate public.item new=None old=None'],
    ]);
  });

  test('numeric, timestamptz and jsonb columns read and modified (the numeric rounded to its column)', async () => {
    await pg.psql(
      `INSERT INTO ledger VALUES (1, 1.005, '2024-01-02 03:04:05+00', '{"a": [1]}'), (2, NULL, NULL, NULL)`,
    );
    await pg.psql(`INSERT INTO capped VALUES (0), (NULL)`);
    assert.deepEqual(await pg.query(`SELECT v FROM capped`), [['0'], ['']], 'a domain column is its base type');
    assert.match(
      (await pg.psqlResult(`INSERT INTO capped VALUES (1)`)).stderr,
      /ERROR: {2}value for domain small violates check constraint "small_check"/,
      "the trigger's row is checked against the domain",
    );
    // 1.005 is stored as 1.01 before the trigger; 1.515 is rounded again after it
    assert.deepEqual(await pg.query(`SET timezone = 'UTC'; SELECT * FROM ledger ORDER BY id`), [
      ['1', '1.52', '2024-01-02 03:04:06.5+00', '{"a": [1], "seen": true}'],
      ['2', '', '', '{"seen": true}'],
    ]);
  });

  test('INSTEAD OF INSERT on a view', async () => {
    await pg.psql(`TRUNCATE audit; INSERT INTO item_view VALUES (7, 'via view')`);
    assert.deepEqual(await pg.query(`SELECT id, name, price FROM item`), [['7', 'VIA VIEW', '1.00']]);
  });

  test('misuse fails safe: a value of the wrong type, a trigger function called directly', async () => {
    const r = await pg.psqlResult(`INSERT INTO guarded VALUES (1, 'x')`);
    assert.match(
      r.stderr,
      /ERROR: {2}column "id" has type OID 23; a Rust alloc::string::String \(type OID 25\) cannot be stored in it/,
    );
    assert.equal(await pg.psql(`SELECT count(*) FROM guarded`), '0');
    // the column's modifier holds for the row a trigger returns
    assert.match(
      (await pg.psqlResult(`INSERT INTO short (code) VALUES ('ab')`)).stderr,
      /value too long for type character varying\(3\)/,
    );
    assert.match(
      (await pg.psqlResult(`INSERT INTO short (code) VALUES ('arr')`)).stderr,
      /value too long for type character varying\(2\)/,
    );
    await pg.psql(`INSERT INTO short (code) VALUES ('a')`);
    assert.equal(
      await pg.psql(`SELECT code, note IS NULL FROM short`),
      'aa|t',
      'None stores NULL in a column of any type',
    );
    const direct = await pg.psqlResult(`SELECT wrong_type()`);
    assert.match(direct.stderr, /trigger functions can only be called as triggers/);
  });
});

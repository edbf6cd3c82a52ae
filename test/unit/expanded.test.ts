/**
 * The expanded pass on printed crates written by hand in the shape of
 * `rustc -Zunpretty=expanded,hygiene` (the e2e tests run it on real ones):
 * which findings the hygiene table waives and which it must not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExpanded, ExpandedParseError } from '../../src/analysis/expanded.js';

/**
 * rustc's hygiene table in the form `-Zverbose-internals` prints, from the
 * lines of its short form (plus `, def: <crate>` for a macro another crate
 * defined).
 */
export function verboseTable(short: string): string {
  const local: string[] = [];
  const foreign: string[] = [];
  const contexts: string[] = [];
  const pad = (text: string, n: number) => text.replace(/^/gm, ' '.repeat(n));
  for (const line of short.split('\n')) {
    const e =
      /^(crate(\d+)::\{\{expn(\d+)\}\}): parent: (\S+), call_site_ctxt: #\d+, def_site_ctxt: #(\d+), kind: (.*?)(?:, def: (\w+))?$/.exec(
        line,
      );
    if (e) {
      const m = /^Macro\((\w+), "(.*)"\)$/.exec(e[6]!);
      const kind = m ? `Macro(\n    ${m[1]},\n    "${m[2]}",\n),` : `${e[6]},`;
      const def = e[7]
        ? `Some(\n    DefId(7:1 ~ ${e[7]}[1a2b]::x),\n),`
        : e[2] === '0'
          ? 'Some(\n    DefId(0:9 ~ plrust_fn[0f0f]::x),\n),'
          : 'None,';
      const data = `ExpnData {\n${pad(`kind: ${kind}\nparent: ${e[4]},\ncall_site: no-location (#0),\ndef_site: user.rs:1:1: 1:2 (#${e[5]}),\nmacro_def_id: ${def}`, 4)}\n}`;
      if (e[2] === '0') {
        while (local.length < Number(e[3])) local.push(pad('None,', 8));
        local.push(pad(`Some(\n${pad(data, 4)},\n),`, 8));
      } else foreign.push(pad(`${e[1]}: ${data},`, 8));
      continue;
    }
    const c = /^#(\d+): parent: #(\d+), outer_mark: \((\S+), (\w+)\)$/.exec(line);
    if (c)
      contexts.push(
        pad(
          `SyntaxContextData {\n    outer_expn: ${c[3]},\n    outer_transparency: ${c[4]},\n    parent: #${c[2]},\n},`,
          8,
        ),
      );
  }
  return `\n/*\nHygieneData {\n    local_expn_data: [\n${local.join('\n')}\n    ],\n    local_expn_hashes: [],\n    foreign_expn_data: {\n${foreign.join('\n')}\n    },\n    foreign_expn_hashes: {},\n    syntax_context_data: [\n${contexts.join('\n')}\n    ],\n    syntax_context_map: {},\n}\n*/\n`;
}

const TABLE = `
/*
Expansions:
crate0::{{expn0}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Root
crate0::{{expn1}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Bang, "thread_local")
crate0::{{expn2}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Bang, "mine")
{{MORE}}crate1::{{expn9}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Bang, "crate::helper")

SyntaxContexts:
#0: parent: #0, outer_mark: (crate0::{{expn0}}, Opaque)
#1: parent: #0, outer_mark: (crate0::{{expn1}}, SemiOpaque)
#2: parent: #0, outer_mark: (crate0::{{expn2}}, SemiOpaque)
#3: parent: #0, outer_mark: (crate1::{{expn9}}, SemiOpaque)
*/
`;

function printed(user: string, more = ''): string {
  return `#![feature /* 1#0 */(prelude_import /* 2#0 */)]
extern crate std /* 3#1 */;
#[forbid /* 4#0 */(unsafe_code /* 5#0 */)]
pub mod user /* 6#0 */ {
${user}
}
#[unsafe(no_mangle /* 7#0 */)]
pub extern "C" fn wrapper /* 8#0 */() {}
${verboseTable(TABLE.replace('{{MORE}}', more))}`;
}

function findings(user: string): string[] {
  return checkExpanded(printed(user), 'f.sql').map((f) => `${f.rule}${f.macro ? `@${f.macro}` : ''}`);
}

describe('expanded pass', () => {
  test('the wrapper around the user module is not checked', () => {
    assert.deepEqual(findings('    pub fn f /* 10#0 */() { ::plrust_rt /* 11#0 */::checkpoint /* 12#0 */(); }'), []);
  });

  test("attributes written by a standard macro or another crate's macro are waived, a user macro's are not", () => {
    assert.deepEqual(findings('    #[thread_local /* 13#1 */]\n    static A /* 14#0 */: u8 = 0;'), []);
    assert.deepEqual(findings('    #[thread_local /* 13#3 */]\n    static A /* 14#0 */: u8 = 0;'), []);
    assert.deepEqual(findings('    #[thread_local /* 13#2 */]\n    static A /* 14#2 */: u8 = 0;'), [
      'forbidden-attribute@mine',
    ]);
  });

  test('an annotation inside a literal or after a keyword waives nothing', () => {
    assert.deepEqual(findings('    #[no_mangle]\n    static S /* 15#0 */: &str = "/* 16#1 */";'), [
      'forbidden-attribute',
    ]);
    assert.deepEqual(findings('    type P /* 17#0 */ = fn /* 18#1 */(u8);'), ['fn-pointer-type']);
    assert.deepEqual(findings('    #[no_mangle /* 19#1 */ /* 19#0 */]\n    static B /* 20#0 */: u8 = 0;'), [
      'forbidden-attribute',
    ]);
  });

  test('forbidden macros are found in the table, at the user macro that wrote the call', () => {
    const more =
      'crate0::{{expn3}}: parent: crate0::{{expn2}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Bang, "include_str")\n';
    const table = checkExpanded(printed('', more), 'f.sql');
    assert.deepEqual(
      table.map((f) => [f.rule, f.macro]),
      [['forbidden-macro', 'mine']],
    );
  });

  test('a loop without its checkpoint is reported; one with it passes', () => {
    assert.deepEqual(
      findings('    pub fn f /* 21#0 */() { ::plrust_rt /* 22#0 */::checkpoint /* 23#0 */(); loop {} }'),
      ['uninstrumentable'],
    );
    assert.deepEqual(
      findings(
        '    pub fn f /* 21#0 */() { ::plrust_rt /* 22#0 */::checkpoint /* 23#0 */(); loop { ::plrust_rt /* 22#0 */::checkpoint /* 23#0 */(); } }',
      ),
      [],
    );
  });

  test('output that is not a printed crate is refused, not passed', () => {
    assert.throws(() => checkExpanded('pub mod user {}', 'f.sql'), ExpandedParseError);
    assert.throws(
      () => checkExpanded(`fn main() {}\n${verboseTable(TABLE.replace('{{MORE}}', ''))}`, 'f.sql'),
      ExpandedParseError,
    );
  });
});

describe("expanded pass: an allowed crate's macros", () => {
  // expn3: a derive serde_derive defined; expn4: a derive defined by a crate not allowed;
  // expn5: a macro_rules the serde derive wrote (its definition has the derive's context #5);
  // expn6: a derive the function's own crate defined.
  const more = [
    'crate0::{{expn3}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Derive, "Deserialize"), def: serde_derive',
    'crate0::{{expn4}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Derive, "Deserialize"), def: other_derive',
    'crate0::{{expn5}}: parent: crate0::{{expn3}}, call_site_ctxt: #5, def_site_ctxt: #5, kind: Macro(Bang, "helper")',
    'crate0::{{expn6}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Derive, "Deserialize")',
    'crate0::{{expn7}}: parent: crate0::{{expn0}}, call_site_ctxt: #0, def_site_ctxt: #0, kind: Macro(Bang, "serde::wrap"), def: serde',
    '',
  ].join('\n');
  const contexts = [
    '#4: parent: #0, outer_mark: (crate0::{{expn3}}, Opaque)',
    '#5: parent: #0, outer_mark: (crate0::{{expn3}}, Transparent)',
    '#6: parent: #0, outer_mark: (crate0::{{expn4}}, Transparent)',
    '#7: parent: #5, outer_mark: (crate0::{{expn5}}, SemiOpaque)',
    '#8: parent: #0, outer_mark: (crate0::{{expn6}}, Transparent)',
    '#9: parent: #0, outer_mark: (crate0::{{expn7}}, SemiOpaque)',
  ].join('\n');
  const allowed = { libraries: new Set(['serde', 'serde_derive']), helpers: new Set(['serde']) };
  const withContexts = (user: string, crates = allowed) =>
    checkExpanded(
      `#[forbid /* 4#0 */(unsafe_code /* 5#0 */)]\npub mod user /* 6#0 */ {\n${user}\n}\n${verboseTable(
        TABLE.replace('{{MORE}}', more).replace('*/', `${contexts}\n*/`),
      )}`,
      'f.sql',
      crates,
    ).map((f) => f.rule);

  const derived = [
    '    const _ /* 2#5 */: () = {',
    '        extern crate serde /* 30 */ as _serde /* 31#5 */;',
    '        fn visit /* 32#5 */() { while let Some /* 33#5 */(k /* 34#5 */) = None /* 35#5 */ {} }',
    '        macro_rules! try /* 36#5 */ { () => {} }',
    '        fn more /* 37#7 */() { loop { x /* 38#7 */(); } }',
    '    };',
  ].join('\n');

  test("what a derive of an allowed crate writes (by rustc's record of the defining crate) is the crate's", () => {
    assert.deepEqual(withContexts(derived), []);
    assert.deepEqual(withContexts(derived, { libraries: new Set(), helpers: new Set() }).sort(), [
      'extern-crate',
      'reserved-name',
      'uninstrumentable',
      'uninstrumentable',
      'uninstrumentable',
      'uninstrumentable',
    ]);
  });

  test("a derive another crate or the function's crate defined writes the function's code", () => {
    assert.ok(withContexts(derived.replaceAll('#5', '#6')).includes('extern-crate'));
    assert.ok(withContexts(derived.replaceAll('#5', '#8')).includes('extern-crate'));
  });

  test("the function's tokens inside the derive's output are still the function's", () => {
    // The crate name and loop body carry the function's context: what the derive re-emitted from its input.
    assert.deepEqual(withContexts('    const _ /* 2#5 */: () = { extern crate evil /* 40#0 */ as a /* 41#0 */; };'), [
      'extern-crate',
    ]);
    assert.deepEqual(withContexts('    const _ /* 2#5 */: () = { fn f /* 42#0 */() { loop {} } };'), [
      'uninstrumentable',
      'uninstrumentable',
    ]);
    // A keyword of the function's with nothing marked after it in its statement: the function's.
    assert.deepEqual(withContexts('    const _ /* 2#5 */: () = { fn g /* 43#5 */() { loop {} } };'), [
      'uninstrumentable',
    ]);
    assert.deepEqual(
      withContexts(
        '    fn f /* 44#0 */() { ::std /* 45#0 */::mem /* 46#0 */::forget /* 47#0 */(x /* 48#5 */); }',
      ).filter((r) => r !== 'uninstrumentable'),
      ['mem-forget'],
    );
  });

  test("`unsafe` an allowed crate's macro writes is its own, unless the function's code is inside", () => {
    // rustc's lint does not see unsafe from another crate's macro: the pass does.
    const fn = (inner: string) =>
      `    fn f /* 60#0 */() { ::plrust_rt /* 61#0 */::checkpoint /* 62#0 */(); let v /* 63#0 */ = ${inner}; }`;
    assert.deepEqual(withContexts(fn('unsafe { read /* 64#9 */(p /* 65#9 */) }')), []);
    assert.deepEqual(withContexts(fn('unsafe { *(p /* 66#0 */ as *const i32 /* 67#0 */) }')), ['unsafe']);
    assert.deepEqual(withContexts(fn('unsafe { read /* 64#9 */(p /* 66#0 */) }')), ['unsafe']);
  });

  test("helper attributes pass only where the function's crates declare them", () => {
    const s = '    #[serde /* 50#0 */(rename /* 51#0 */ = "x")]\n    struct S /* 52#0 */;';
    assert.deepEqual(withContexts(s), []);
    assert.deepEqual(withContexts(s, { libraries: allowed.libraries, helpers: new Set() }), ['forbidden-attribute']);
  });
});

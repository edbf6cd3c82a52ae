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

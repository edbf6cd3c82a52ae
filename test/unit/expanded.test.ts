/**
 * The expanded pass on printed crates written by hand in the shape of
 * `rustc -Zunpretty=expanded,hygiene` (the e2e tests run it on real ones):
 * which findings the hygiene table waives and which it must not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExpanded, ExpandedParseError } from '../../src/analysis/expanded.js';

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
${TABLE.replace('{{MORE}}', more)}`;
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
    assert.throws(() => checkExpanded(`fn main() {}\n${TABLE.replace('{{MORE}}', '')}`, 'f.sql'), ExpandedParseError);
  });
});

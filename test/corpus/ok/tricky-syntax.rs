// Text that looks like forbidden code but is inert: strings, raw strings,
// comments, char literals. Plus syntax that stresses the lexer.
/* A nested /* block */ comment mentioning unsafe { } and include_str!("x") */

/// Doc comments may say `#[no_mangle]`, `extern "C" { }` or `mem::forget`.
pub fn inert_text() -> Option<String> {
    let a = "include_str!(\"/etc/passwd\") } unsafe { extern crate x; ";
    let b = r#"asm!("ud2") "} dyn Fn() -> u8 "#;
    let c = r##"raw with "# inside and println!("x")"##;
    let d = b"env!(\"HOME\")";
    let e = br#"}"#;
    let q = '"';
    let apostrophe = '\'';
    let brace = '}';
    let emoji = '\u{1F600}';
    let bytes = [b'{', b'\''];
    // unsafe impl Send for X {}   ← a comment, not code
    Some(format!("{a}{b}{c}{d:?}{e:?}{q}{apostrophe}{brace}{emoji}{bytes:?}"))
}

fn longest<'a>(x: &'a str, y: &'a str) -> &'a str {
    if x.len() >= y.len() { x } else { y }
}

fn call_with_ref<F>(f: F) -> usize
where
    F: for<'x> Fn(&'x str) -> usize,
{
    f("abc")
}

fn fixed<const N: usize>() -> [u8; N] {
    [0; N]
}

trait Visitor {
    fn visit(&mut self, n: i64);
    fn done(&self) -> bool;
}

struct Counter(u32);

impl Visitor for Counter {
    fn visit(&mut self, n: i64) {
        self.0 += (n & 1) as u32;
    }
    fn done(&self) -> bool {
        self.0 > 3 || self.0 == 0
    }
}

pub fn mixed(x: i64) -> Option<i64> {
    let r = match x {
        | 1 | 2 => 10,
        n if n > 100 => n.leading_zeros() as i64,
        _ => {
            let f = |v: i64| v | 1;
            f(x)
        }
    };
    let mut c = Counter(0);
    for i in 0.. {
        c.visit(i);
        if c.done() || i > 10 {
            break;
        }
    }
    let arr = fixed::<4>();
    let n = call_with_ref(|s| s.len()) + arr.len() + longest("a", "bb").len();
    let _ = 1..2;
    let _ = x.max(0) as f64 / 2.;
    Some(r + n as i64 + 0x1F_i64 + 1_000)
}

// expect: blanket-impl
// expanded: blanket-impl
// The alias is renamed with `use … as` before the impl names it.
mod types {
    pub trait Trait<T> {
        type Assoc;
    }
    pub struct D;
    pub trait Pick {
        type P: ?Sized;
    }
    impl Pick for D {
        type P = dyn Trait<(), Assoc = u16>;
    }
    pub type Alias = <D as Pick>::P;
}
use types::Alias as Plain;
impl<T> types::Trait<T> for Plain {
    type Assoc = Box<u8>;
}
pub fn f() -> Option<i32> {
    Some(1)
}

//! `Array<'a, T>`: an array argument with pgrx's reading methods. Its
//! text and bytea elements borrow the argument (no copy), as `&str` does.
use core::fmt;
use core::marker::PhantomData;

/// A one-dimensional array argument; elements may be NULL.
#[derive(Clone)]
pub struct Array<'a, T> {
    /// The non-NULL elements, in order.
    values: Vec<T>,
    /// Per element: its index in `values`, or None for NULL.
    slots: Vec<Option<u32>>,
    _borrow: PhantomData<&'a ()>,
}

/// As pgrx prints it: the elements, NULL as `None` (`[Some(1), None]`).
impl<T: fmt::Debug> fmt::Debug for Array<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.slots.iter().map(|s| s.map(|k| &self.values[k as usize]))).finish()
    }
}

/// `as_slice` on an array that holds NULLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArraySliceError;

impl fmt::Display for ArraySliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the array contains NULL elements, which a slice cannot hold")
    }
}

impl std::error::Error for ArraySliceError {}

impl<'a, T> Array<'a, T> {
    pub(crate) fn from_options(items: impl Iterator<Item = Option<T>>) -> Array<'a, T> {
        let mut values = Vec::new();
        let slots = items
            .map(|o| {
                o.map(|v| {
                    values.push(v);
                    (values.len() - 1) as u32
                })
            })
            .collect();
        Array { values, slots, _borrow: PhantomData }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether any element is NULL.
    pub fn contains_nulls(&self) -> bool {
        self.values.len() != self.slots.len()
    }

    /// Element `i`: None past the end, Some(None) for NULL.
    pub fn get(&self, i: usize) -> Option<Option<&T>> {
        self.slots.get(i).map(|s| s.map(|k| &self.values[k as usize]))
    }

    /// The elements, all present: an error if any is NULL.
    pub fn as_slice(&self) -> Result<&[T], ArraySliceError> {
        if self.contains_nulls() { Err(ArraySliceError) } else { Ok(&self.values) }
    }

    /// The elements in order, NULL as None.
    pub fn iter(&self) -> impl Iterator<Item = Option<T>> + '_
    where
        T: Clone,
    {
        self.slots.iter().map(|s| s.map(|k| self.values[k as usize].clone()))
    }

    /// The elements in order; panics at a NULL element.
    pub fn iter_deny_null(&self) -> impl Iterator<Item = T> + '_
    where
        T: Clone,
    {
        self.slots.iter().map(|s| match s {
            Some(k) => self.values[*k as usize].clone(),
            None => panic!("array contains NULL"),
        })
    }
}

impl<'a, T> IntoIterator for Array<'a, T> {
    type Item = Option<T>;
    type IntoIter = std::vec::IntoIter<Option<T>>;
    fn into_iter(self) -> Self::IntoIter {
        let mut values: Vec<Option<T>> = self.values.into_iter().map(Some).collect();
        let out: Vec<Option<T>> = self.slots.iter().map(|s| s.and_then(|k| values[k as usize].take())).collect();
        out.into_iter()
    }
}

impl<'a, T> From<Vec<Option<T>>> for Array<'a, T> {
    fn from(v: Vec<Option<T>>) -> Array<'a, T> {
        Array::from_options(v.into_iter())
    }
}

impl<'a, T> From<Array<'a, T>> for Vec<Option<T>> {
    fn from(a: Array<'a, T>) -> Vec<Option<T>> {
        a.into_iter().collect()
    }
}

/// What a `.rs` function's array parameter may be: `Array<T>` itself,
/// `Vec<Option<T>>`, or upstream's `Vec<T>`, which refuses a NULL element.
/// The code generated around a `.rs` function converts with it.
#[doc(hidden)]
pub trait FromArrayArg<'a, T>: Sized {
    fn from_array_arg(a: Array<'a, T>, name: &str) -> Result<Self, String>;
}

impl<'a, T> FromArrayArg<'a, T> for Array<'a, T> {
    fn from_array_arg(a: Array<'a, T>, _: &str) -> Result<Self, String> {
        Ok(a)
    }
}

impl<'a, T> FromArrayArg<'a, T> for Vec<Option<T>> {
    fn from_array_arg(a: Array<'a, T>, _: &str) -> Result<Self, String> {
        Ok(a.into())
    }
}

impl<'a, T> FromArrayArg<'a, T> for Vec<T> {
    fn from_array_arg(a: Array<'a, T>, name: &str) -> Result<Self, String> {
        if a.contains_nulls() {
            return Err(format!(
                "argument `{name}` contains a NULL element, but the function's parameter is a Vec<T>: declare it Vec<Option<T>> or Array<T> to accept NULL elements"
            ));
        }
        Ok(a.values)
    }
}

/// `.rs` array parameters: see [`FromArrayArg`].
#[doc(hidden)]
pub fn array_arg<'a, T, P: FromArrayArg<'a, T>>(a: Array<'a, T>, name: &str) -> Result<P, String> {
    P::from_array_arg(a, name)
}

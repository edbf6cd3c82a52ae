//! `plrust_rt`: the runtime linked into every PL/Rust function library.
//!
//! It holds what must exist once per library and be the same for every
//! function: the C ABI types (`abi`), the global allocator that allocates
//! through the host (`alloc`), the checkpoint that enforces cancellation and
//! the stack limit (`checkpoint`), panic capture (`panic`), the SQL <-> Rust
//! value conversions (`convert`) and the entry points the generated wrapper
//! calls (`wrapper`), and the services function code asks of the backend
//! through the host's request channel (`request`, `request_value`, `spi`,
//! `srf`, `trigger`, `log`, `fn_call`, gathered in `prelude`). docs/ABI.md
//! is the specification.
//!
//! User code can name this crate (`::plrust_rt`), so everything public here
//! must be harmless from safe code: entry points that trust their inputs are
//! `unsafe fn`, and the only safe function meant for users is `checkpoint()`.
#![feature(alloc_error_hook)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
mod alloc;
mod checkpoint;
pub mod composite;
mod convert;
mod convert_types;
pub mod datum;
pub mod fn_call;
mod host;
#[doc(hidden)]
pub mod log;
mod panic;
pub mod pg_sys;
pub mod prelude;
mod request;
#[doc(hidden)]
pub mod request_value;
mod request_types;
#[doc(hidden)]
pub mod rs_fn;
pub mod spi;
pub mod sql;
pub mod srf;
pub mod trigger;
#[doc(hidden)]
pub mod wrapper;

pub use checkpoint::checkpoint;
pub use datum::*;
/// The serde_json that `Json` and `JsonB` hold values of.
pub use serde_json;

#[global_allocator]
static GLOBAL: alloc::HostAllocator = alloc::HostAllocator;

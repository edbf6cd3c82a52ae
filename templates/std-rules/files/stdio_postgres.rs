//! Standard streams for `target_vendor = "postgres"` (added by plrust).
//!
//! A PL/Rust function runs inside a PostgreSQL backend, whose file
//! descriptors 0, 1 and 2 belong to the server (its log, or /dev/null).
//! Every read and write fails with `ErrorKind::Unsupported`, so
//! `io::stdout().write(..)` returns an error and `print!`/`eprint!` panic,
//! which the function wrapper turns into an ordinary SQL error. Unlike std's
//! `unsupported` streams, which swallow output silently, this tells the
//! function's author where the output went: nowhere.

use crate::io::{self, BorrowedCursor, IoSlice, IoSliceMut};

pub struct Stdin;
pub struct Stdout;
pub type Stderr = Stdout;

const DENIED: io::Error = io::const_error!(
    io::ErrorKind::Unsupported,
    "standard input and output are not available in PL/Rust"
);

impl Stdin {
    pub const fn new() -> Stdin {
        Stdin
    }
}

impl io::Read for Stdin {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(DENIED)
    }

    fn read_buf(&mut self, _cursor: BorrowedCursor<'_>) -> io::Result<()> {
        Err(DENIED)
    }

    fn read_vectored(&mut self, _bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        Err(DENIED)
    }
}

impl Stdout {
    pub const fn new() -> Stdout {
        Stdout
    }
}

impl io::Write for Stdout {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(DENIED)
    }

    fn write_vectored(&mut self, _bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        Err(DENIED)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// No read is buffered: there is nothing to read ahead.
pub const STDIN_BUF_SIZE: usize = 0;

// `false` keeps the error: std's stdio layer would otherwise treat it like a
// closed descriptor and pretend the write succeeded.
pub fn is_ebadf(_err: &io::Error) -> bool {
    false
}

// The default panic hook and runtime messages print nothing: the message
// travels in the panic payload to the wrapper, which reports it to Postgres.
pub fn panic_output() -> Option<Stderr> {
    None
}

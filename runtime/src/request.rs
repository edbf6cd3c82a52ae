//! The host request channel (docs/ABI.md, "Host requests"): every service
//! function code asks of the backend is one self-contained byte message
//! through `PlrustHost::request`, answered by one reply buffer. No pointer
//! crosses in either direction, so a host in another process can forward
//! the bytes without knowing the operation.
use crate::abi::PlrustSlice;
use core::fmt;

pub(crate) const OP_LOG: u32 = 1;
pub(crate) const OP_SPI: u32 = 2;
pub(crate) const OP_ROWS: u32 = 3;
pub(crate) const OP_TRIGGER: u32 = 4;
pub(crate) const OP_TRIGGER_RETURN: u32 = 5;
pub(crate) const OP_FN_CALL: u32 = 6;
pub(crate) const OP_TYPE: u32 = 7;
pub(crate) const OP_ROW: u32 = 8;
pub(crate) const OP_ROW_TEXT: u32 = 9;

/// Value shapes inside messages: a flattened `PlrustValue` tree.
pub(crate) const SHAPE_NULL: u8 = 0;
pub(crate) const SHAPE_PLAIN: u8 = 1;
pub(crate) const SHAPE_BYTES: u8 = 2;
pub(crate) const SHAPE_ARRAY: u8 = 3;

/// An error PostgreSQL raised while serving a request (or the channel
/// itself failed), as the error reply describes it.
#[derive(Clone, Debug)]
pub struct PgError {
    sqlstate: [u8; 5],
    message: String,
    detail: Option<String>,
    hint: Option<String>,
}

impl PgError {
    pub(crate) fn local(sqlstate: &[u8; 5], message: impl Into<String>) -> PgError {
        PgError { sqlstate: *sqlstate, message: message.into(), detail: None, hint: None }
    }

    /// The five-character SQLSTATE, e.g. `"42P01"`.
    pub fn sqlstate(&self) -> &str {
        core::str::from_utf8(&self.sqlstate).unwrap_or("XX000")
    }

    /// The primary message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PgError {}

/// A message under construction.
pub struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn new(op: u32) -> Writer {
        let mut w = Writer(Vec::with_capacity(64));
        w.u32(op);
        w
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
    /// A value's bytes rather than a message: no op code.
    pub(crate) fn value() -> Writer {
        Writer(Vec::with_capacity(64))
    }
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A reply buffer the host allocated; released through the host on drop.
pub(crate) struct Reply {
    buf: PlrustSlice,
}

impl Drop for Reply {
    fn drop(&mut self) {
        if self.buf.len != 0 {
            // SAFETY: the host gave this block to the library with this length (alignment 1).
            unsafe { crate::host::dealloc(self.buf.ptr.cast_mut().cast(), self.buf.len, 1) }
        }
    }
}

impl Reply {
    fn bytes(&self) -> &[u8] {
        if self.buf.len == 0 || self.buf.ptr.is_null() {
            return &[];
        }
        // SAFETY: a live host block of `len` bytes owned by this Reply.
        unsafe { core::slice::from_raw_parts(self.buf.ptr.cast::<u8>(), self.buf.len) }
    }

    pub(crate) fn reader(&self) -> Reader<'_> {
        Reader { b: self.bytes(), at: 0 }
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn over(b: &'a [u8]) -> Reader<'a> {
        Reader { b, at: 0 }
    }
    pub(crate) fn is_done(&self) -> bool {
        self.at == self.b.len()
    }
}

/// Reads a reply; a short or malformed reply is a protocol error, never UB.
pub(crate) struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

pub(crate) fn protocol_error() -> PgError {
    PgError::local(b"XX000", "malformed reply from the PL/Rust host")
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], PgError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or_else(protocol_error)?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, PgError> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32, PgError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| protocol_error())?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, PgError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| protocol_error())?))
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], PgError> {
        let n = usize::try_from(self.u64()?).map_err(|_| protocol_error())?;
        self.take(n)
    }
    pub(crate) fn string(&mut self) -> Result<String, PgError> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| protocol_error())
    }
}

fn decode_error(reply: &Reply) -> Result<(bool, PgError), PgError> {
    let mut r = reply.reader();
    let abort = r.u8()? != 0;
    let sqlstate: [u8; 5] = r.take(5)?.try_into().map_err(|_| protocol_error())?;
    let message = r.string()?;
    let detail = Some(r.string()?).filter(|s| !s.is_empty());
    let hint = Some(r.string()?).filter(|s| !s.is_empty());
    Ok((abort, PgError { sqlstate, message, detail, hint }))
}

/// Sends one request. An error reply the host marks as ending the call (a
/// cancel, an `error!`) stops the function the way a cancel does: the
/// wrapper unwinds and the host raises the original error.
pub(crate) fn send(msg: Writer) -> Result<Reply, PgError> {
    if crate::checkpoint::canceled() {
        crate::checkpoint::abort_call();
    }
    let h = crate::host::installed();
    // SAFETY: a non-NULL host was validated by `install` and outlives the library.
    let Some(f) = (if h.is_null() { None } else { unsafe { (*h).request } }) else {
        return Err(PgError::local(b"0A000", "this host offers no database services"));
    };
    let mut out = PlrustSlice::EMPTY;
    // SAFETY: the message is live for the call; the callback fills `out`
    // with a host block or leaves it empty, and never unwinds.
    let status = unsafe { f((*h).ctx, msg.0.as_ptr(), msg.0.len(), &mut out) };
    let reply = Reply { buf: out };
    match status {
        0 => Ok(reply),
        1 => {
            let (abort, e) = decode_error(&reply)?;
            if abort {
                crate::checkpoint::abort_call();
            }
            Err(e)
        }
        2 => Err(PgError::local(b"53200", "out of memory: the host could not hand the reply over")),
        _ => Err(protocol_error()),
    }
}

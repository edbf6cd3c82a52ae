//! Logging with PostgreSQL's levels and error codes: `log!`, `info!`,
//! `notice!`, `warning!`, `error!`, `debug1!`…`debug5!` and `ereport!`, as
//! upstream PL/Rust (pgrx) spells them. A message below ERROR is reported
//! by the host at once; an ERROR ends the call: the Rust frames unwind
//! first, then the host raises the error with its SQLSTATE.
use crate::request::{self, Writer, OP_LOG};

/// PostgreSQL's message levels. FATAL and PANIC are reported as ERROR:
/// function code may abort its statement, never the session or the server.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PgLogLevel {
    DEBUG5,
    DEBUG4,
    DEBUG3,
    DEBUG2,
    DEBUG1,
    LOG,
    LOG_SERVER_ONLY,
    INFO,
    NOTICE,
    WARNING,
    ERROR,
    FATAL,
    PANIC,
}

impl PgLogLevel {
    fn code(self) -> u8 {
        match self {
            PgLogLevel::DEBUG5 => 0,
            PgLogLevel::DEBUG4 => 1,
            PgLogLevel::DEBUG3 => 2,
            PgLogLevel::DEBUG2 => 3,
            PgLogLevel::DEBUG1 => 4,
            PgLogLevel::LOG => 5,
            PgLogLevel::LOG_SERVER_ONLY => 6,
            PgLogLevel::INFO => 7,
            PgLogLevel::NOTICE => 8,
            PgLogLevel::WARNING => 9,
            PgLogLevel::ERROR | PgLogLevel::FATAL | PgLogLevel::PANIC => 10,
        }
    }
}

macro_rules! error_codes {
    ($($name:ident = $state:literal),* $(,)?) => {
        /// SQLSTATE error codes (PostgreSQL's errcodes.txt names).
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum PgSqlErrorCode { $($name),* }

        impl PgSqlErrorCode {
            /// The five-character SQLSTATE.
            pub fn sqlstate(self) -> &'static str {
                match self { $(PgSqlErrorCode::$name => $state),* }
            }
        }
    };
}

error_codes!(
    ERRCODE_SUCCESSFUL_COMPLETION = "00000",
    ERRCODE_WARNING = "01000",
    ERRCODE_WARNING_DEPRECATED_FEATURE = "01P01",
    ERRCODE_NO_DATA = "02000",
    ERRCODE_CARDINALITY_VIOLATION = "21000",
    ERRCODE_FEATURE_NOT_SUPPORTED = "0A000",
    ERRCODE_DATA_EXCEPTION = "22000",
    ERRCODE_DATETIME_FIELD_OVERFLOW = "22008",
    ERRCODE_ARRAY_SUBSCRIPT_ERROR = "2202E",
    ERRCODE_DIVISION_BY_ZERO = "22012",
    ERRCODE_INVALID_PARAMETER_VALUE = "22023",
    ERRCODE_INVALID_TEXT_REPRESENTATION = "22P02",
    ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE = "22003",
    ERRCODE_NULL_VALUE_NOT_ALLOWED = "22004",
    ERRCODE_STRING_DATA_RIGHT_TRUNCATION = "22001",
    ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION = "23000",
    ERRCODE_NOT_NULL_VIOLATION = "23502",
    ERRCODE_FOREIGN_KEY_VIOLATION = "23503",
    ERRCODE_UNIQUE_VIOLATION = "23505",
    ERRCODE_CHECK_VIOLATION = "23514",
    ERRCODE_INVALID_TRANSACTION_STATE = "25000",
    ERRCODE_READ_ONLY_SQL_TRANSACTION = "25006",
    ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION = "28000",
    ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION = "27000",
    ERRCODE_EXTERNAL_ROUTINE_EXCEPTION = "38000",
    ERRCODE_E_R_E_MODIFYING_SQL_DATA_NOT_PERMITTED = "38002",
    ERRCODE_E_R_E_READING_SQL_DATA_NOT_PERMITTED = "38004",
    ERRCODE_TRIGGERED_ACTION_EXCEPTION = "09000",
    ERRCODE_SERIALIZATION_FAILURE = "40001",
    ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION = "42000",
    ERRCODE_SYNTAX_ERROR = "42601",
    ERRCODE_INSUFFICIENT_PRIVILEGE = "42501",
    ERRCODE_UNDEFINED_COLUMN = "42703",
    ERRCODE_UNDEFINED_FUNCTION = "42883",
    ERRCODE_UNDEFINED_TABLE = "42P01",
    ERRCODE_UNDEFINED_OBJECT = "42704",
    ERRCODE_DUPLICATE_OBJECT = "42710",
    ERRCODE_DATATYPE_MISMATCH = "42804",
    ERRCODE_PROGRAM_LIMIT_EXCEEDED = "54000",
    ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE = "55000",
    ERRCODE_LOCK_NOT_AVAILABLE = "55P03",
    ERRCODE_QUERY_CANCELED = "57014",
    ERRCODE_RAISE_EXCEPTION = "P0001",
    ERRCODE_NO_DATA_FOUND = "P0002",
    ERRCODE_TOO_MANY_ROWS = "P0003",
    ERRCODE_ASSERT_FAILURE = "P0004",
    ERRCODE_INTERNAL_ERROR = "XX000",
    ERRCODE_DATA_CORRUPTED = "XX001",
);

fn message(level: PgLogLevel, code: PgSqlErrorCode, text: &str, detail: Option<&str>, hint: Option<&str>) -> Writer {
    let mut w = Writer::new(OP_LOG);
    w.u8(level.code());
    w.raw(code.sqlstate().as_bytes());
    w.bytes(text.as_bytes());
    w.bytes(detail.unwrap_or("").as_bytes());
    w.bytes(hint.unwrap_or("").as_bytes());
    w
}

/// Reports a message below ERROR (an ERROR or above ends the call, as
/// `raise` does). A host without logging drops it.
#[doc(hidden)]
#[track_caller]
pub fn report(level: PgLogLevel, code: PgSqlErrorCode, text: &str, detail: Option<&str>) {
    if level >= PgLogLevel::ERROR {
        raise(code, text, detail);
    }
    let _ = request::send(message(level, code, text, detail, None));
}

/// Raises an ERROR: never returns. The host keeps the error and raises it
/// once the call has unwound; a host without the channel gets a panic.
#[doc(hidden)]
#[track_caller]
pub fn raise(code: PgSqlErrorCode, text: &str, detail: Option<&str>) -> ! {
    let _ = request::send(message(PgLogLevel::ERROR, code, text, detail, None));
    panic!("{text}")
}

/// `ereport!(level, PgSqlErrorCode::…, message [, detail])`. At ERROR (or
/// FATAL/PANIC, reported as ERROR) the expression does not return.
#[macro_export]
macro_rules! ereport {
    (ERROR, $code:expr, $msg:expr $(,)?) => {
        $crate::log::raise($code, &$msg, ::core::option::Option::None)
    };
    (ERROR, $code:expr, $msg:expr, $detail:expr $(,)?) => {
        $crate::log::raise($code, &$msg, ::core::option::Option::Some(&$detail))
    };
    (PgLogLevel::ERROR, $code:expr, $msg:expr $(,)?) => {
        $crate::log::raise($code, &$msg, ::core::option::Option::None)
    };
    (PgLogLevel::ERROR, $code:expr, $msg:expr, $detail:expr $(,)?) => {
        $crate::log::raise($code, &$msg, ::core::option::Option::Some(&$detail))
    };
    ($level:expr, $code:expr, $msg:expr $(,)?) => {
        $crate::log::report($level, $code, &$msg, ::core::option::Option::None)
    };
    ($level:expr, $code:expr, $msg:expr, $detail:expr $(,)?) => {
        $crate::log::report($level, $code, &$msg, ::core::option::Option::Some(&$detail))
    };
}

/// A LOG message: the server log (and the client when client_min_messages asks for it).
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::LOG,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// An INFO message: always sent to the client.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::INFO,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A NOTICE message.
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::NOTICE,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A DEBUG1 message.
#[macro_export]
macro_rules! debug1 {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::DEBUG1,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A DEBUG2 message.
#[macro_export]
macro_rules! debug2 {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::DEBUG2,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A DEBUG3 message.
#[macro_export]
macro_rules! debug3 {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::DEBUG3,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A DEBUG4 message.
#[macro_export]
macro_rules! debug4 {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::DEBUG4,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A DEBUG5 message.
#[macro_export]
macro_rules! debug5 {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::DEBUG5,
            $crate::log::PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// A WARNING (SQLSTATE 01000).
#[macro_export]
macro_rules! warning {
    ($($arg:tt)*) => {
        $crate::log::report(
            $crate::log::PgLogLevel::WARNING,
            $crate::log::PgSqlErrorCode::ERRCODE_WARNING,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

/// Ends the call with an ERROR (SQLSTATE XX000, as upstream): never returns.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::log::raise(
            $crate::log::PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            &::std::format!($($arg)*),
            ::core::option::Option::None,
        )
    };
}

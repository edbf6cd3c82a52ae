/**
 * One error type for every failure a user can see. `code` is stable and
 * machine-readable (it appears in --json output); `hint` says what to do next.
 */
export enum ExitCode {
  Ok = 0,
  Failed = 1,
  Usage = 2,
  /** Another plrust process holds the lock and --no-wait was given. */
  Locked = 3,
  /** The trust checker or the symbol allowlist rejected the input. */
  Untrusted = 4,
}

/**
 * Every code a PlrustError can carry: a closed set, so a misspelt code is a
 * type error rather than a new code in --json output.
 */
export type ErrorCode =
  | 'ALLOWLIST_INVALID'
  | 'ALLOWLIST_MISSING'
  | 'ARCHIVE_NOT_FOUND'
  | 'BAD_ALLOW_LIST'
  | 'BAD_DEPENDENCIES'
  | 'BAD_LIMIT'
  | 'BAD_REQUEST'
  | 'BAD_RUST_VERSION'
  | 'BAD_SIZE'
  | 'BAD_TARGET'
  | 'BAD_VERSION_REQ'
  | 'CARGO_NOT_FOUND'
  | 'CHECKSUM_MISMATCH'
  | 'CHECKSUM_UNAVAILABLE'
  | 'COMPILE_FAILED'
  | 'COMPILE_LIMIT'
  | 'CONFIG_INVALID'
  | 'CONFLICTING_COMPILERS'
  | 'CORRUPT_ARCHIVE'
  | 'DEPENDENCY_BUILD_FAILED'
  | 'DEPENDENCY_FEATURE_NOT_ALLOWED'
  | 'DEPENDENCY_NOT_ALLOWED'
  | 'DEPENDENCY_NOT_IN_SOURCE'
  | 'DEPENDENCY_SOURCE_MISSING'
  | 'DEPENDENCY_VERSION_NOT_ALLOWED'
  | 'DIST_MANIFEST_INVALID'
  | 'DIST_PACKAGE_INVALID'
  | 'DIST_PACKAGE_MISSING'
  | 'DOCTOR_FAILED'
  | 'DOWNLOAD_FAILED'
  | 'DOWNLOAD_NEEDS_VERSION'
  | 'DOWNLOAD_TIMEOUT'
  | 'ELF_INCONSISTENT'
  | 'ELF_MALFORMED'
  | 'ELF_UNSUPPORTED'
  | 'EMPTY_INPUT'
  | 'EXPANSION_TOO_LARGE'
  | 'EXPANSION_UNREADABLE'
  | 'EXTRACT_DEST_EXISTS'
  | 'EXTRACT_FAILED'
  | 'FILE_NOT_FOUND'
  | 'HANDLER_BUILD_FAILED'
  | 'HOME_NOT_WRITABLE'
  | 'HOST_UNSUPPORTED'
  | 'HTTP_STATUS'
  | 'INITDB_FAILED'
  | 'INSTALL_DAMAGED'
  | 'INPUT_TOO_LARGE'
  | 'INSTRUMENT_DELIMITERS'
  | 'INSTRUMENT_LEX'
  | 'INSTRUMENT_MISMATCH'
  | 'INSTRUMENT_UNRESOLVED'
  | 'INTERNAL'
  | 'INVALID_INPUT'
  | 'INVALID_PROXY'
  | 'INVALID_RUST_NAME'
  | 'INVALID_SHA256'
  | 'INVALID_URL'
  | 'LIBRARY_NOT_READABLE'
  | 'LINKER_MISSING'
  | 'LOCKED'
  | 'NODE_NOT_READABLE'
  | 'NOT_A_FILE'
  | 'NOT_ELF'
  | 'NOT_INSTALLED'
  | 'NOT_SHARED_LIBRARY'
  | 'NOT_UTF8'
  | 'NO_ALLOW_LIST'
  | 'NO_TOOLCHAIN'
  | 'PGDATA_INVALID'
  | 'PG_CONFIG_FAILED'
  | 'PG_CONFIG_FOREIGN'
  | 'PG_CONFIG_NOT_FOUND'
  | 'PG_CONFIG_REQUIRED'
  | 'PG_SERVER_DEV_MISSING'
  | 'PG_START_FAILED'
  | 'PG_UNSUPPORTED'
  | 'PREBUILT_CORRUPT'
  | 'PREBUILT_NOT_FOUND'
  | 'PRLIMIT_MISSING'
  | 'RUNTIME_BUILD_FAILED'
  | 'RUNTIME_DEPENDENCY_MISSING'
  | 'RUSTC_BROKEN'
  | 'RUSTC_NOT_FOUND'
  | 'RUSTC_TOO_OLD'
  | 'RUSTC_UNSUPPORTED'
  | 'RUSTUP_TOOLCHAIN_INVALID'
  | 'RUSTUP_TOOLCHAIN_NOT_FOUND'
  | 'RUST_SRC_INVALID'
  | 'RUST_SRC_MISSING'
  | 'RUST_SRC_NOT_FOUND'
  | 'RUST_SRC_VERSION_MISMATCH'
  | 'SANDBOX_FAILED'
  | 'SANDBOX_UNAVAILABLE'
  | 'SANDBOX_UNSAFE'
  | 'SERVER_USER_UNKNOWN'
  | 'SQL_FAILED'
  | 'SQL_SYNTAX'
  | 'STD_ALREADY_RESTRICTED'
  | 'STD_BUILD_FAILED'
  | 'STD_RULES_INVALID'
  | 'STD_RULE_MISMATCH'
  | 'STORAGE_FAILED'
  | 'TARGET_DEFINITION_INVALID'
  | 'TARGET_NOT_INSTALLED'
  | 'TARGET_SPEC_FAILED'
  | 'TOOLCHAIN_FILE_INVALID'
  | 'TOOLCHAIN_FILE_UNTRUSTED'
  | 'TOOLCHAIN_PROBE_FAILED'
  | 'UNKNOWN_INPUT'
  | 'UNSAFE_ARCHIVE'
  | 'UNSUPPORTED_TYPE'
  | 'UNTRUSTED_CODE'
  | 'UNTRUSTED_SYMBOLS'
  | 'VENDOR_FAILED'
  | 'VERSION_NEEDS_DOWNLOAD'
  | 'WORK_DIR_FAILED';

export interface ErrorDetails {
  code: ErrorCode;
  message: string;
  hint?: string;
  exitCode?: ExitCode;
  /** Structured extras for --json consumers (diagnostics, paths, …). */
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class PlrustError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly data: Record<string, unknown> | undefined;

  constructor(details: ErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PlrustError';
    this.code = details.code;
    this.hint = details.hint;
    this.exitCode = details.exitCode ?? ExitCode.Failed;
    this.data = details.data;
  }
}

export function usageError(code: ErrorCode, message: string, hint?: string): PlrustError {
  return new PlrustError({ code, message, hint, exitCode: ExitCode.Usage });
}

export function isErrnoException(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

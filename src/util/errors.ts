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

export interface ErrorDetails {
  code: string;
  message: string;
  hint?: string;
  exitCode?: ExitCode;
  /** Structured extras for --json consumers (diagnostics, paths, …). */
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class PlrustError extends Error {
  readonly code: string;
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

export function usageError(code: string, message: string, hint?: string): PlrustError {
  return new PlrustError({ code, message, hint, exitCode: ExitCode.Usage });
}

export function isErrnoException(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

/**
 * Diagnostics in the user's coordinates. The checker reports positions in
 * the text it was given (the body or the .rs file); rustc reports positions
 * in the generated crate. Both are mapped back to the user's file, line and
 * column before anyone sees them.
 */
export interface UserDiagnostic {
  severity: 'error' | 'warning';
  /** Trust-checker rule id; absent for rustc's own errors. */
  rule?: string;
  file: string;
  line: number;
  col: number;
  message: string;
  /** One line for humans: `file:line:col: [rule: ]message`. */
  rendered: string;
  /** rustc's extra notes/help, already in user coordinates where they point. */
  notes?: string[];
}

export interface Origin {
  file: string;
  /** 1-based line and column in the user's file where the source text starts. */
  line: number;
  col: number;
}

/** Position inside the source text → position in the user's file. */
export function toUserPosition(origin: Origin, line: number, col: number): { line: number; col: number } {
  return { line: origin.line + line - 1, col: line === 1 ? origin.col + col - 1 : col };
}

export function render(d: Omit<UserDiagnostic, 'rendered'>): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.rule ? `${d.rule}: ` : ''}${d.message}`;
}

interface RustcSpan {
  file_name: string;
  line_start: number;
  column_start: number;
  is_primary: boolean;
  label?: string | null;
}

interface RustcMessage {
  $message_type?: string;
  message: string;
  level: string;
  spans: RustcSpan[];
  children: RustcMessage[];
}

/** Maps a position in the generated crate to the user's source; null outside it. */
export type PositionMap = (
  file: string,
  line: number,
  col: number,
) => { file: string; line: number; col: number } | null;

/**
 * rustc's `--error-format=json` lines → diagnostics in user coordinates.
 * Positions outside the user's source belong to the generated wrapper and
 * are reported at the function's origin, saying so.
 */
export function mapRustcDiagnostics(stderr: string, opts: { origin: Origin; map: PositionMap }): UserDiagnostic[] {
  const out: UserDiagnostic[] = [];
  for (const raw of stderr.split('\n')) {
    if (!raw.startsWith('{')) continue;
    let msg: RustcMessage;
    try {
      msg = JSON.parse(raw) as RustcMessage;
    } catch {
      continue;
    }
    if (msg.$message_type !== undefined && msg.$message_type !== 'diagnostic') continue;
    if (msg.level !== 'error' && msg.level !== 'warning') continue;
    if (/^aborting due to|^\d+ warnings? emitted/.test(msg.message)) continue;
    const where = (span: RustcSpan | undefined) => {
      const mapped = span ? opts.map(span.file_name, span.line_start, span.column_start) : null;
      return mapped
        ? { ...mapped, inUser: true }
        : { file: opts.origin.file, line: opts.origin.line, col: opts.origin.col, inUser: false };
    };
    const primary = msg.spans.find((s) => s.is_primary) ?? msg.spans[0];
    const pos = where(primary);
    const notes: string[] = [];
    if (primary?.label) notes.push(primary.label);
    for (const child of msg.children) {
      const cpos = where(child.spans.find((s) => s.is_primary) ?? child.spans[0]);
      notes.push(`${child.level}: ${child.message}${child.spans.length && cpos.inUser ? ` (line ${cpos.line})` : ''}`);
    }
    const severity = msg.level === 'error' ? 'error' : 'warning';
    const message = pos.inUser
      ? msg.message
      : `${msg.message} (in the code generated around the function: check its signature and return type)`;
    const d = {
      severity,
      file: pos.file,
      line: pos.line,
      col: pos.col,
      message,
      ...(notes.length ? { notes } : {}),
    } as const;
    out.push({ ...d, rendered: render(d) });
  }
  return out;
}

/**
 * Every byte plrust writes to the terminal goes through here, so the
 * conventions hold for every command: with --json exactly one JSON document
 * on stdout; human results on stdout, progress and notes on stderr; colour
 * and spinners only where a person is watching.
 */
import type { Ora } from 'ora';
import { PlrustError, type ExitCode } from './errors.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  /** Spinners and progress bars: a TTY on stderr and not CI. */
  interactive: boolean;
}

export function detectOutputOptions(flags: {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
}): OutputOptions {
  const env = process.env;
  const tty = Boolean(process.stderr.isTTY);
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false';
  const noColorEnv = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const json = flags.json === true;
  return {
    json,
    quiet: flags.quiet === true,
    verbose: flags.verbose === true,
    color: flags.color !== false && !noColorEnv && Boolean(process.stdout.isTTY) && !json,
    interactive: tty && !ci && !json && flags.quiet !== true,
  };
}

type Paint = (s: string) => string;
const plain: Paint = (s) => s;

export interface Progress {
  update(state: { transferred: number; total?: number; bytesPerSecond?: number; etaSeconds?: number }): void;
  text(label: string): void;
  done(finalText?: string): void;
  fail(finalText?: string): void;
}

/**
 * What domain modules may say while they work: notes, warnings, debug lines
 * and progress. Only command modules print results, through Output.
 */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  progress(label: string): Promise<Progress>;
}

/** For callers (tests, the server-side compile) that want silence. */
export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  progress: async () => ({
    update: () => undefined,
    text: () => undefined,
    done: () => undefined,
    fail: () => undefined,
  }),
};

export class Output implements Reporter {
  readonly opts: OutputOptions;
  private paints: { red: Paint; yellow: Paint; green: Paint; dim: Paint; bold: Paint } = {
    red: plain,
    yellow: plain,
    green: plain,
    dim: plain,
    bold: plain,
  };
  private jsonWritten = false;

  constructor(opts: OutputOptions) {
    this.opts = opts;
  }

  /** chalk is loaded only when colour is on: most scripted runs never pay for it. */
  async init(): Promise<void> {
    if (!this.opts.color) return;
    const { Chalk } = await import('chalk');
    const c = new Chalk({ level: 1 });
    this.paints = { red: c.red, yellow: c.yellow, green: c.green, dim: c.dim, bold: c.bold };
  }

  get paint() {
    return this.paints;
  }

  /** A note about what is happening (stderr); silent with --quiet or --json. */
  info(message: string): void {
    if (this.opts.quiet || this.opts.json) return;
    process.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    if (this.opts.json) return;
    process.stderr.write(`${this.paints.yellow('warning:')} ${message}\n`);
  }

  /** Only with --verbose. */
  debug(message: string): void {
    if (!this.opts.verbose || this.opts.json) return;
    process.stderr.write(`${this.paints.dim(message)}\n`);
  }

  /**
   * The command's result: `data` as the one JSON document with --json,
   * otherwise whatever `human` prints (unless --quiet).
   */
  result(data: unknown, human: (print: (line?: string) => void) => void): void {
    if (this.opts.json) {
      this.writeJson(data);
      return;
    }
    if (this.opts.quiet) return;
    human((line = '') => process.stdout.write(`${line}\n`));
  }

  error(err: unknown): ExitCode {
    const e = toPlrustError(err);
    if (this.opts.json) {
      if (!this.jsonWritten) {
        this.writeJson({
          ok: false,
          error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.data ?? {}) },
        });
      }
      return e.exitCode;
    }
    process.stderr.write(`${this.paints.red('error:')} ${e.message}\n`);
    if (e.hint) process.stderr.write(`${this.paints.dim('hint:')} ${e.hint}\n`);
    if (this.opts.verbose && err instanceof Error && err.stack) {
      process.stderr.write(`${this.paints.dim(err.stack)}\n`);
      if (err.cause instanceof Error && err.cause.stack)
        process.stderr.write(`${this.paints.dim(`caused by: ${err.cause.stack}`)}\n`);
    }
    return e.exitCode;
  }

  private writeJson(data: unknown): void {
    this.jsonWritten = true;
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  }

  /** A spinner on a TTY; elsewhere the label is printed once as a note. */
  async progress(label: string): Promise<Progress> {
    if (!this.opts.interactive) {
      this.info(label);
      return {
        update: () => undefined,
        text: (t) => this.debug(t),
        done: (t) => {
          if (t) this.info(t);
        },
        fail: (t) => {
          if (t) this.info(t);
        },
      };
    }
    const { default: ora } = await import('ora');
    const spinner: Ora = ora({ text: label, stream: process.stderr }).start();
    return {
      update: (s) => {
        spinner.text = `${label} ${formatTransfer(s)}`;
      },
      text: (t) => {
        spinner.text = `${label} ${t}`;
      },
      done: (t) => spinner.succeed(t ?? label),
      fail: (t) => spinner.fail(t ?? label),
    };
  }
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function formatTransfer(s: {
  transferred: number;
  total?: number;
  bytesPerSecond?: number;
  etaSeconds?: number;
}): string {
  const parts = [s.total ? `${formatBytes(s.transferred)} / ${formatBytes(s.total)}` : formatBytes(s.transferred)];
  if (s.bytesPerSecond) parts.push(`${formatBytes(s.bytesPerSecond)}/s`);
  if (s.etaSeconds !== undefined && Number.isFinite(s.etaSeconds)) parts.push(`ETA ${Math.ceil(s.etaSeconds)}s`);
  return parts.join(', ');
}

function toPlrustError(err: unknown): PlrustError {
  if (err instanceof PlrustError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PlrustError({
    code: 'INTERNAL',
    message: `unexpected failure: ${message}`,
    hint: 'run again with --verbose for details and report it if it persists',
    cause: err,
  });
}

import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import { dayInZone, isMidnightInZone } from '../shared/dates.js';

/** Where a command writes: results to `out`, progress and logs to `err`. */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: Io = { out: process.stdout, err: process.stderr };

/**
 * A reader that stops early (`comeback stats | head -3`) closes the pipe; the next write fails with
 * EPIPE. That is the reader's choice, not an error: end the process quietly with exit code 0.
 */
export function exitQuietlyOnBrokenPipe(
  stream: NodeJS.WritableStream,
  exit: (code: number) => void = process.exit,
): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') exit(0);
    else throw error;
  });
}

/**
 * Writes a chunk of a long output (a CSV export) to stdout and waits for a slow reader to drain it
 * before the caller makes the next one, so an export's memory is one chunk, not the whole file.
 */
export async function writeChunk(io: Io, text: string): Promise<void> {
  if (!io.out.write(text)) await new Promise<void>((resolve) => io.out.once('drain', () => resolve()));
}

/** Prints a value as JSON on stdout. */
export function printJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Prints `{ ...head, [key]: rows }` exactly as `printJson` would (the list last), writing the rows a
 * chunk at a time and waiting for the reader, so that a list of a million customers is never one string.
 */
export async function printJsonList(
  io: Io,
  head: Record<string, unknown>,
  key: string,
  chunks: Iterable<readonly unknown[]>,
): Promise<void> {
  const empty = JSON.stringify({ ...head, [key]: [] }, null, 2);
  await writeChunk(io, `${empty.slice(0, empty.lastIndexOf('[]'))}[`);
  let written = 0;
  for (const chunk of chunks) {
    let text = '';
    for (const row of chunk) {
      text += `${written++ === 0 ? '' : ','}\n    ${JSON.stringify(row, null, 2).replaceAll('\n', '\n    ')}`;
    }
    if (text) await writeChunk(io, text);
  }
  await writeChunk(io, written === 0 ? ']\n}\n' : '\n  ]\n}\n');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes our own tables use.
const CONTROL_BUT_COLOUR = /\u001b\[[0-9;]*m|[\u0000-\u001f\u007f-\u009f]/g;

function escapeControl(char: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return named[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Text from the data (names, e-mails, reasons) made safe for a terminal: every control character
 * (C0, DEL, C1: ESC, BEL, NUL, line breaks…) is shown as an escape (`\x1b`, `\x07`, `\x00`, `\n`), so a
 * value cannot set the terminal's title or colours or fake output lines.
 */
export function safeText(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/**
 * A plain text table: the first row is the header, numbers are right-aligned. Cells are shown through
 * `safeText`, except for the colour codes (`ESC[…m`) of tables that colour their cells on purpose.
 */
export function formatTable(rows: Array<Array<string | number>>): string {
  const cells = rows.map((row) =>
    row.map((value) => String(value).replace(CONTROL_BUT_COLOUR, (m) => (m.length > 1 ? m : escapeControl(m)))),
  );
  const widths: number[] = [];
  for (const row of cells) {
    row.forEach((value, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(value));
    });
  }
  const numeric = (value: string) => /^[-+]?[\d,.]+[+]?\s?%?$|^[-+]?[^\d\s]{0,3}[\d,.]+$/.test(value.trim());
  const dash = (value: string) => /^[–-]$/.test(value.trim());
  // A dash (no figure) stands where the column's figures do: right in a column of numbers, left in text.
  const numericColumn = widths.map((_, i) => cells.slice(1).some((row) => row[i] !== undefined && numeric(row[i]!)));
  return cells
    .map((row, r) =>
      row
        .map((value, i) => {
          const pad = ' '.repeat(Math.max(0, widths[i]! - visibleLength(value)));
          const right = numeric(value) || (dash(value) && (numericColumn[i] ?? false));
          return r > 0 && right ? pad + value : value + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes.
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** A progress bar on a terminal; silent when stderr is not one. */
export function progressBar(io: Io, label: string): { update(done: number, total: number): void; stop(): void } {
  if (!io.err.isTTY) return { update() {}, stop() {} };
  // Loaded here, on a terminal only, so that commands that never draw a bar do not pay for it.
  const cliProgress: typeof cliProgressModule = createRequire(import.meta.url)('cli-progress');
  const bar = new cliProgress.SingleBar(
    {
      stream: io.err,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const mb = (n: number) => Math.round((n / 1_048_576) * 10) / 10;
      if (!started) {
        bar.start(mb(total), 0);
        started = true;
      }
      bar.update(mb(done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 passive`, `2 passives`, `1,464 points`: the count and the word in its number. */
export function countOf(n: number, one: string, other: string): string {
  return `${formatCount(n)} ${n === 1 ? one : other}`;
}

/**
 * An as-of instant (epoch ms) in words, the way every command prints it: `the end of 2011-12-09` for
 * the midnight in `timeZone` (the store's zone, default UTC) that ends that local day (what
 * `--as-of 2011-12-09` and the default as-of give), else the instant in ISO 8601 (UTC).
 */
export function asOfText(asOf: number, timeZone = 'UTC'): string {
  return isMidnightInZone(asOf, timeZone)
    ? `the end of ${dayInZone(asOf - 1, timeZone)}`
    : new Date(asOf).toISOString();
}

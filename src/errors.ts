/** What went wrong, as a closed set the faces map once: the CLI to exit codes, the API to statuses. */
export type ErrorKind =
  | 'bad_input'
  | 'usage'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'insufficient_points'
  | 'rate_limited'
  | 'busy'
  | 'internal';

/** Where in an input file a problem was found, so the message can say `FILE:LINE: field: reason`. */
export interface InputLocation {
  file?: string;
  line?: number;
  field?: string;
}

/** The one error class of Comeback; `kind` says how a face should answer it. */
export class ComebackError extends Error {
  readonly kind: ErrorKind;
  readonly location: InputLocation | undefined;

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown; location?: InputLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ComebackError';
    this.kind = kind;
    this.location = options.location;
  }

  /** `FILE:LINE: field: reason`, with the parts that are known. */
  describe(): string {
    const where = this.location;
    if (!where) return this.message;
    const head = [where.file, where.line].filter((part) => part !== undefined && part !== '').join(':');
    // A message that already names its field (`storeUrl: …`, as the API's messages do) says it once.
    const field = where.field && !this.message.startsWith(`${where.field}: `) ? where.field : undefined;
    const parts = [head, field].filter((part) => part !== undefined && part !== '');
    return parts.length === 0 ? this.message : `${parts.join(': ')}: ${this.message}`;
  }
}

/** A bad-input error that points at a place in a file. */
export function inputError(message: string, location: InputLocation, cause?: unknown): ComebackError {
  return new ComebackError('bad_input', message, { location, cause });
}

/** Expected outcomes are values: a refused action returns this instead of throwing. */
export type Result<T, K extends string = ErrorKind> =
  | { ok: true; value: T }
  | { ok: false; error: { kind: K; message: string } };

/**
 * True for the database's "another writer holds the lock and the wait ran out": SQLite's SQLITE_BUSY
 * (and its extended codes, such as BUSY_SNAPSHOT) and PostgreSQL's lock_not_available (55P03).
 */
export function isBusyError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  return code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED' || code === '55P03';
}

/** A busy database as a `busy` ComebackError (the API answers 503 with Retry-After, the CLI exit 1). */
export function busyError(cause: unknown): ComebackError {
  return new ComebackError('busy', 'the database is busy with another writer; try again in a moment', { cause });
}

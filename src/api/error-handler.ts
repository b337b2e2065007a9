import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { busyError, ComebackError, type ErrorKind, isBusyError } from '../errors.js';

/** HTTP statuses of the error kinds; the one place where kinds meet HTTP. */
export const STATUS: Record<ErrorKind, number> = {
  bad_input: 400,
  usage: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  insufficient_points: 422,
  rate_limited: 429,
  busy: 503,
  internal: 500,
};

/** The JSON body of an error answer. */
export interface ErrorBodyShape {
  error: { code: string; message: string; field?: string };
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** `/batch/3/timestamp` + missing `messageId` → `batch[3].timestamp`, `messageId`. */
export function fieldOfIssue(issue: AjvIssue): string | undefined {
  const parts = (issue.instancePath ?? '')
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof missing === 'string') parts.push(missing);
  let field = '';
  for (const part of parts) field += /^\d+$/.test(part) ? `[${part}]` : field === '' ? part : `.${part}`;
  return field === '' ? undefined : field;
}

/**
 * `must be one of preferences, rewards` when the value had to be one of a union of literals (Ajv
 * reports each branch's `const` at the same path) or of an enum, rather than Ajv's first branch's
 * `must be equal to constant`, which does not say which values are allowed.
 */
function allowedValues(issues: AjvIssue[], first: AjvIssue): string | undefined {
  if (first.keyword === 'enum' && Array.isArray(first.params?.allowedValues))
    return `must be one of ${first.params.allowedValues.join(', ')}`;
  if (first.keyword !== 'const') return undefined;
  const values = issues
    .filter((i) => i.keyword === 'const' && i.instancePath === first.instancePath)
    .map((i) => String(i.params?.allowedValue));
  return values.length > 1 ? `must be one of ${values.join(', ')}` : `must be ${values[0]}`;
}

function describe(error: FastifyError | ComebackError | Error): { status: number; body: ErrorBodyShape } {
  if (error instanceof ComebackError) {
    const field = error.location?.field;
    return {
      status: STATUS[error.kind],
      body: { error: { code: error.kind, message: error.message, ...(field ? { field } : {}) } },
    };
  }
  const fastifyError = error as FastifyError & { validation?: AjvIssue[] };
  if (Array.isArray(fastifyError.validation) && fastifyError.validation.length > 0) {
    const issue = fastifyError.validation[0]!;
    const field = fieldOfIssue(issue);
    const where = fastifyError.validationContext ?? 'body';
    const message = `${field ?? where}: ${allowedValues(fastifyError.validation, issue) ?? issue.message ?? 'is not valid'}`;
    return { status: 400, body: { error: { code: 'bad_input', message, ...(field ? { field } : {}) } } };
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 500) return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
  const codes: Record<number, string> = {
    400: 'bad_input',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    429: 'rate_limited',
  };
  return { status, body: { error: { code: codes[status] ?? 'bad_input', message: error.message } } };
}

/** Installs the error and not-found handlers: every error leaves as `{ error: { code, message, field? } }`. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = describe(isBusyError(error) ? busyError(error) : error);
    // A busy database is worth retrying soon; the write lock is held for one import batch at most.
    if (status === 503) reply.header('retry-after', '1');
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(status).send(body);
  });
}

/** The answer for a route that does not exist. */
export function notFoundBody(request: FastifyRequest): ErrorBodyShape {
  return { error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } };
}

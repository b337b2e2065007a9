import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../errors.js';
import { parseDateArgument, parseEndDateArgument } from '../shared/dates.js';

/** The body of every error answer: a stable `code`, a message for people, and the field at fault. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({
        description: 'stable: bad_input, unauthorized, forbidden, not_found, conflict, rate_limited, …',
      }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'the input field at fault, e.g. `batch[3].timestamp`' })),
    }),
  },
  { $id: 'ErrorBody' },
);

/** The error answers every authenticated route can give. */
export const authErrors = {
  400: Type.Ref('ErrorBody'),
  401: Type.Ref('ErrorBody'),
  403: Type.Ref('ErrorBody'),
  429: Type.Ref('ErrorBody'),
};

/** A nullable schema. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** Epoch milliseconds, as every instant in the API. */
export const EpochMs = Type.Number({ description: 'epoch milliseconds (UTC)' });

/**
 * A `YYYY-MM-DD` query parameter as epoch ms: the midnight starting that day in `timeZone` (the store's
 * zone, default UTC); absent or empty is undefined, anything else a 400 naming it.
 */
export function dateQuery(text: string | undefined, field: string, timeZone = 'UTC'): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = parseDateArgument(text, timeZone);
  if (ms === undefined) {
    throw new ComebackError('bad_input', `"${text}" is not a date (YYYY-MM-DD)`, { location: { field } });
  }
  return ms;
}

/**
 * A `YYYY-MM-DD` query parameter read as an inclusive end: the instant just after that day (the next
 * midnight in `timeZone`, the store's zone, default UTC). 400 naming it.
 */
export function endDateQuery(text: string | undefined, field: string, timeZone = 'UTC'): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = parseEndDateArgument(text, timeZone);
  if (ms === undefined) {
    throw new ComebackError('bad_input', `"${text}" is not a date (YYYY-MM-DD)`, { location: { field } });
  }
  return ms;
}

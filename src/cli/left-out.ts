import { formatCount } from './io.js';

/**
 * What a one-currency command left out, in a sentence: "not scored: 84 customers who bought only in
 * KRW (comeback predict --currency KRW)"; null when nothing was left out.
 */
export function leftOutNote(
  leftOut: ReadonlyArray<{ currency: string; customers: number }>,
  command: string,
): string | null {
  const shown = leftOut.filter((l) => l.customers > 0);
  if (shown.length === 0) return null;
  const parts = shown.map(
    (l) =>
      `${formatCount(l.customers)} customer${l.customers === 1 ? '' : 's'} who bought only in ${l.currency} (comeback ${command} --currency ${l.currency})`,
  );
  return `left out: ${parts.join('; ')}`;
}

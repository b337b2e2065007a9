import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { ComebackError } from '../errors.js';
import { resolveCustomerRef } from '../segments/index.js';
import { type Db, immediateTransaction } from '../store/index.js';
import { checkAnswer, type SurveyDefinition } from './survey.js';
import { loadSurvey, type ResponseInput, recordResponse } from './surveys.queries.js';
import { feedbackDb } from './tables.js';

/** What an import of answers did. */
export interface FeedbackImportSummary {
  rows: number;
  created: number;
  /** Rows already imported (a re-run): nothing written for them. */
  existing: number;
}

/**
 * The columns of an answers CSV: `survey` (a survey key), `customer` (the store's customer id, source:id, an e-mail or #internal id),
 * `answered_at` (ISO date or instant), then `score`, `reason`, `comment` and any other question id
 * of the survey; `id` (optional) is the answer's id in the other system. The natural key is
 * `import:<survey>:<id>`, or a digest of the row without one, so a re-run never duplicates.
 */
export const FEEDBACK_CSV_COLUMNS = ['survey', 'customer', 'answered_at', 'id', 'score', 'reason', 'comment'] as const;

/**
 * Imports answers collected elsewhere from CSV text, all or nothing: every row is checked first and
 * the first problems are thrown as `bad_input` naming `FILE:LINE: field: reason`; then every answer
 * is stored in one transaction (with its timeline events), once per natural key.
 */
export async function importFeedbackCsv(
  db: Db,
  text: string,
  { file, now }: { file: string; now: number },
): Promise<FeedbackImportSummary> {
  const records: string[][] = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false });
  if (records.length === 0) throw new ComebackError('bad_input', 'the file is empty', { location: { file, line: 1 } });
  const header = records[0]!.map((h) => h.trim().toLowerCase());
  for (const needed of ['survey', 'customer', 'answered_at']) {
    if (!header.includes(needed))
      throw new ComebackError('bad_input', `the header needs a ${needed} column`, {
        location: { file, line: 1, field: needed },
      });
  }
  const surveys = new Map<string, SurveyDefinition | undefined>();
  const inputs: ResponseInput[] = [];
  const fdb = feedbackDb(db);
  for (let i = 1; i < records.length; i++) {
    const line = i + 1;
    const row = Object.fromEntries(header.map((h, j) => [h, records[i]![j] ?? '']));
    const fail = (field: string, message: string) =>
      new ComebackError('bad_input', message, { location: { file, line, field } });
    const key = row.survey!.trim();
    if (!surveys.has(key)) surveys.set(key, await loadSurvey(db, key, now));
    const survey = surveys.get(key);
    if (!survey) throw fail('survey', `no survey ${JSON.stringify(key)}`);
    const who = row.customer!.trim();
    // As on the command line (`resolveCustomerRef`): the store's id, source:external-id, an e-mail or #internal-id.
    let customer: { id: number };
    try {
      customer = { id: await resolveCustomerRef(db, who) };
    } catch (error) {
      if (error instanceof ComebackError) throw fail('customer', error.message);
      throw error;
    }
    const at = Date.parse(
      /^\d{4}-\d{2}-\d{2}$/.test(row.answered_at!.trim())
        ? `${row.answered_at!.trim()}T00:00:00Z`
        : row.answered_at!.trim(),
    );
    if (!Number.isFinite(at)) throw fail('answered_at', 'a date (YYYY-MM-DD) or an ISO instant');
    if (at > now) throw fail('answered_at', 'is in the future');
    const given: Record<string, unknown> = {};
    for (const q of survey.questions) if (row[q.id] !== undefined && row[q.id] !== '') given[q.id] = row[q.id];
    const checked = checkAnswer(survey, given);
    if (!checked.ok) throw fail(checked.problems[0]!.path, checked.problems[0]!.message);
    const id = row.id?.trim();
    const natural = id
      ? `import:${key}:${id}`
      : `import:${createHash('sha256')
          .update(JSON.stringify([key, customer.id, at, checked.answer.answers]))
          .digest('base64url')
          .slice(0, 32)}`;
    inputs.push({
      survey,
      customerId: customer.id,
      responseKey: natural,
      source: 'import',
      answer: checked.answer,
      context: null,
      answeredAt: at,
    });
  }
  let created = 0;
  await immediateTransaction(fdb, async (trx) => {
    for (const input of inputs) if ((await recordResponse(trx, input)).created) created += 1;
  });
  return { rows: inputs.length, created, existing: inputs.length - created };
}

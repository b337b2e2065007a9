import { randomBytes } from 'node:crypto';
import { adjust, loadProgram } from '../loyalty/index.js';
import { COMEBACK_TRACK_EVENTS, type Db, immediateTransaction } from '../store/index.js';
import { npsGroup } from './nps.js';
import {
  type AnswerProblem,
  BUILTIN_SURVEYS,
  checkAnswer,
  type SurveyAnswer,
  type SurveyDefinition,
  type SurveyProblem,
  validateSurvey,
} from './survey.js';
import { type FeedbackDb, feedbackDb } from './tables.js';
import { type PageRefusal, signPageLink, verifyPageLink } from './tokens.js';

const DAY = 86_400_000;

/** The survey stored under `key`, the built-in one saved on first use, or undefined. */
export async function loadSurvey(db: Db, key: string, now: number): Promise<SurveyDefinition | undefined> {
  const fdb = feedbackDb(db);
  const row = await fdb.selectFrom('surveys').select('definition').where('key', '=', key).executeTakeFirst();
  if (row) return JSON.parse(row.definition) as SurveyDefinition;
  const builtin = BUILTIN_SURVEYS.find((s) => s.key === key);
  if (!builtin) return undefined;
  await fdb
    .insertInto('surveys')
    .values({ key, kind: builtin.kind, definition: JSON.stringify(builtin), updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return builtin;
}

/** Validates and saves a survey definition (replacing one of the same key); problems name the field. */
export async function saveSurvey(
  db: Db,
  input: unknown,
  now: number,
): Promise<{ ok: true; survey: SurveyDefinition } | { ok: false; problems: SurveyProblem[] }> {
  const checked = validateSurvey(input);
  if (!checked.ok) return checked;
  const { survey } = checked;
  await feedbackDb(db)
    .insertInto('surveys')
    .values({ key: survey.key, kind: survey.kind, definition: JSON.stringify(survey), updated_at: now })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ kind: survey.kind, definition: JSON.stringify(survey), updated_at: now }),
    )
    .execute();
  return checked;
}

/** Every stored survey key with its kind, built-ins included. */
export async function listSurveys(db: Db, now: number): Promise<Array<{ key: string; kind: string }>> {
  for (const s of BUILTIN_SURVEYS) await loadSurvey(db, s.key, now);
  return feedbackDb(db).selectFrom('surveys').select(['key', 'kind']).orderBy('key').execute();
}

/** A link issued to one customer. */
export interface IssuedLink {
  linkId: string;
  token: string;
  expiresAt: number;
}

/**
 * Issues a signed link to `surveyKey` (or `review`, for the review page of an order) for one customer,
 * valid for the survey's `linkDays` (reviews 60 days) from `now`; `context` names the order
 * (`order:<id>`) or support contact it asks about. Throws when the survey is unknown (a bug of the caller).
 */
export async function issueSurveyLink(
  db: Db,
  secret: string,
  { surveyKey, customerId, context, now }: { surveyKey: string; customerId: number; context?: string; now: number },
): Promise<IssuedLink> {
  const days = surveyKey === 'review' ? 60 : (await loadSurvey(db, surveyKey, now))?.linkDays;
  if (days === undefined) throw new Error(`survey ${surveyKey} does not exist`);
  const linkId = randomBytes(12).toString('base64url');
  const expiresAt = now + days * DAY;
  await feedbackDb(db)
    .insertInto('survey_links')
    .values({
      id: linkId,
      survey_key: surveyKey,
      customer_id: customerId,
      context: context ?? null,
      issued_at: now,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  const token = signPageLink(secret, {
    c: customerId,
    p: surveyKey === 'review' ? 'review' : 'survey',
    l: linkId,
    e: expiresAt,
  });
  return { linkId, token, expiresAt };
}

/** Why a survey link does not open: the token's refusal, an unknown link, or an answer already given. */
export type LinkState = PageRefusal | 'unknown_link' | 'used';

/** An open survey link: the survey, the customer, the link's id and context. */
export interface OpenSurvey {
  survey: SurveyDefinition;
  customerId: number;
  linkId: string;
  context: string | null;
}

/** Checks a survey token at `now` and finds its link: the survey to show, or why not. */
export async function openSurveyLink(
  db: Db,
  secret: string,
  token: string,
  now: number,
): Promise<{ ok: true; open: OpenSurvey } | { ok: false; reason: LinkState }> {
  const verified = verifyPageLink(secret, token, 'survey', now);
  if (!verified.ok) return verified;
  const link = await feedbackDb(db)
    .selectFrom('survey_links')
    .selectAll()
    .where('id', '=', verified.claims.l ?? '')
    .executeTakeFirst();
  if (!link || link.customer_id !== verified.claims.c) return { ok: false, reason: 'unknown_link' };
  if (link.used_at !== null) return { ok: false, reason: 'used' };
  const survey = await loadSurvey(db, link.survey_key, now);
  if (!survey) return { ok: false, reason: 'unknown_link' };
  return { ok: true, open: { survey, customerId: link.customer_id, linkId: link.id, context: link.context } };
}

/** One answer to store, from a link, the API or an import. */
export interface ResponseInput {
  survey: SurveyDefinition;
  customerId: number;
  /** The natural key: `link:<id>`, `import:<id>`, `api:<id>`. */
  responseKey: string;
  source: string;
  answer: SurveyAnswer;
  context: string | null;
  answeredAt: number;
}

/** What storing an answer did; `alert` names the event a low score emitted. */
export interface StoredResponse {
  id: number;
  created: boolean;
  /** One of COMEBACK_TRACK_EVENTS.surveyAlert's names ('NPS Detractor', 'Low CSAT'), or null. */
  alert: (typeof COMEBACK_TRACK_EVENTS.surveyAlert.events)[number] | null;
}

/** The event an answer emits besides `Survey Answered`: NPS 0–6 and CSAT 1–2 call for a follow-up. */
export function alertOf(kind: string, score: number | null): StoredResponse['alert'] {
  if (score === null) return null;
  if (kind === 'nps' && npsGroup(score) === 'detractor') return 'NPS Detractor';
  if (kind === 'csat' && score <= 2) return 'Low CSAT';
  return null;
}

/**
 * Stores one answer once (by its response key; a second time says `created: false` and writes
 * nothing) and puts it on the customer's timeline as a `Survey Answered` event, plus `NPS Detractor`
 * or `Low CSAT` for a low score, which flows can trigger on. Runs inside the caller's transaction.
 */
export async function recordResponse(trx: FeedbackDb, input: ResponseInput): Promise<StoredResponse> {
  const { survey, answer } = input;
  const inserted = await trx
    .insertInto('survey_responses')
    .values({
      survey_key: survey.key,
      kind: survey.kind,
      customer_id: input.customerId,
      response_key: input.responseKey,
      source: input.source,
      score: answer.score,
      reason: answer.reason,
      comment: answer.comment,
      answers: JSON.stringify(answer.answers),
      context: input.context,
      answered_at: input.answeredAt,
    })
    .onConflict((oc) => oc.column('response_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  const alert = alertOf(survey.kind, answer.score);
  if (!inserted) {
    const row = await trx
      .selectFrom('survey_responses')
      .select('id')
      .where('response_key', '=', input.responseKey)
      .executeTakeFirstOrThrow();
    return { id: row.id, created: false, alert };
  }
  const properties = {
    survey: survey.key,
    kind: survey.kind,
    score: answer.score,
    ...(survey.kind === 'nps' && answer.score !== null ? { group: npsGroup(answer.score) } : {}),
    reason: answer.reason,
    comment: answer.comment,
    context: input.context,
    source: input.source,
  };
  // Prefixes and names of COMEBACK_TRACK_EVENTS: stats and engagement tell these from the store's events.
  const { survey: answered, surveyAlert } = COMEBACK_TRACK_EVENTS;
  const events: Array<{ name: string; key: string }> = [
    { name: answered.events[0], key: `${answered.prefix}${input.responseKey}` },
  ];
  if (alert) events.push({ name: alert, key: `${surveyAlert.prefix}${input.responseKey}` });
  for (const e of events) {
    await trx
      .insertInto('events')
      .values({
        message_id: e.key,
        type: 'track',
        event: e.name,
        customer_id: input.customerId,
        anonymous_id: null,
        session_id: null,
        properties: JSON.stringify(properties),
        occurred_at: input.answeredAt,
        received_at: input.answeredAt,
      })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute();
  }
  return { id: inserted.id, created: true, alert };
}

/** The result of answering through a link. */
export type LinkAnswerResult =
  | { ok: true; response: StoredResponse; points: number; survey: SurveyDefinition }
  | { ok: false; reason: LinkState }
  | { ok: false; reason: 'bad_answer'; problems: AnswerProblem[] };

/**
 * Answers a survey through its signed link at `now`: checks the token and the answer, then in one
 * transaction marks the link used (only if it was not: a second answer is refused as `used`) and
 * stores the response, and credits a custom survey's points through the loyalty ledger (idempotency key
 * `survey:<link>`, members only): the answer and its points are kept together or not at all. A low score's alert event is sent to the helpdesk
 * through the outbox (campaigns/helpdesk.queries.ts).
 */
export async function answerSurveyLink(
  db: Db,
  secret: string,
  token: string,
  given: Record<string, unknown>,
  now: number,
): Promise<LinkAnswerResult> {
  const opened = await openSurveyLink(db, secret, token, now);
  if (!opened.ok) return opened;
  const { survey, customerId, linkId, context } = opened.open;
  const checked = checkAnswer(survey, given);
  if (!checked.ok) return { ok: false, reason: 'bad_answer', problems: checked.problems };
  // The points are credited in the answer's transaction: a crash between the two cannot keep one without the other.
  const done = await immediateTransaction(db, async (base) => {
    const trx = feedbackDb(base);
    const claimed = await trx
      .updateTable('survey_links')
      .set({ used_at: now })
      .where('id', '=', linkId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return undefined;
    const response = await recordResponse(trx, {
      survey,
      customerId,
      responseKey: `link:${linkId}`,
      source: 'link',
      answer: checked.answer,
      context,
      answeredAt: now,
    });
    return { response, points: await creditSurveyPoints(base, survey, customerId, `link:${linkId}`, now) };
  });
  if (!done) return { ok: false, reason: 'used' };
  const { response: stored, points } = done;
  return { ok: true, response: stored, points, survey };
}

/**
 * Credits a custom survey's points once per response key; 0 without points, program or membership. In
 * a transaction (`db` a transaction, or the connection of `immediateTransaction`) it writes in it.
 */
export async function creditSurveyPoints(
  db: Db,
  survey: SurveyDefinition,
  customerId: number,
  responseKey: string,
  now: number,
): Promise<number> {
  if (!survey.points) return 0;
  const program = await loadProgram(db).catch(() => undefined);
  if (!program) return 0;
  const credited = await adjust(db, program, {
    customerId,
    points: survey.points,
    reason: `survey ${survey.key} answered`,
    now,
    actor: 'survey',
    idempotencyKey: `survey:${responseKey}`,
  });
  return credited.ok && credited.value.applied ? survey.points : 0;
}

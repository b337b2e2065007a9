import { sql } from 'kysely';
import { ComebackError } from '../errors.js';
import type { Db } from '../store/index.js';
import { type FlowDefinition, validateFlow } from './flow.js';
import { type CompiledTemplate, compileTemplate, type TemplateSource } from './render.js';
import { type CampaignDb, campaignDb } from './tables.js';

/** A flow as lists show it. */
export interface FlowSummary {
  id: number;
  key: string;
  name: string;
  kind: 'flow' | 'campaign';
  enabled: boolean;
  version: number;
  trigger: string;
}

/** A saved flow with the definition of its current version. */
export interface SavedFlow extends FlowSummary {
  definition: FlowDefinition;
}

/** Reads a stored definition, which was validated when it was saved. */
function parseStored(text: string, where: string): FlowDefinition {
  const result = validateFlow(JSON.parse(text));
  if (!result.ok) {
    // A rule added since it was saved (promotional 알림톡, for one) refuses it, naming the field.
    const first = result.problems[0]!;
    throw new ComebackError('bad_input', `${where}: ${first.path}: ${first.message}`, {
      location: { field: first.path },
    });
  }
  return result.flow;
}

/** Sorts object keys so that two definitions that say the same thing compare equal as text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * Saves a flow definition (already validated) as a new version when it differs from the current one;
 * a new flow starts disabled. Customers already in the flow finish the version they entered.
 * Returns the flow and whether a version was created.
 */
export async function saveFlow(
  db: Db,
  definition: FlowDefinition,
  now: number,
  kind: 'flow' | 'campaign' = 'flow',
): Promise<{ flow: SavedFlow; created: boolean }> {
  const cdb = campaignDb(db);
  const text = canonical(definition);
  return cdb.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('flows').selectAll().where('key', '=', definition.key).executeTakeFirst();
    if (!existing) {
      const row = await trx
        .insertInto('flows')
        .values({
          key: definition.key,
          name: definition.name,
          kind,
          enabled: 0,
          current_version: 1,
          event_cursor: 0,
          order_cursor: 0,
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('flow_versions')
        .values({ flow_id: row.id, version: 1, definition: text, created_at: now })
        .execute();
      return { flow: await loadFlowIn(trx, definition.key), created: true };
    }
    const current = await trx
      .selectFrom('flow_versions')
      .select('definition')
      .where('flow_id', '=', existing.id)
      .where('version', '=', existing.current_version)
      .executeTakeFirstOrThrow();
    if (current.definition === text) return { flow: await loadFlowIn(trx, definition.key), created: false };
    const version = existing.current_version + 1;
    await trx
      .insertInto('flow_versions')
      .values({ flow_id: existing.id, version, definition: text, created_at: now })
      .execute();
    await trx
      .updateTable('flows')
      .set({ current_version: version, name: definition.name, updated_at: now })
      .where('id', '=', existing.id)
      .execute();
    return { flow: await loadFlowIn(trx, definition.key), created: true };
  });
}

/** A flow by key with its current definition; not_found when there is none. */
export async function loadFlow(db: Db, key: string): Promise<SavedFlow> {
  return loadFlowIn(campaignDb(db), key);
}

/** Flows joined with the definition of their current version. */
function currentVersions(cdb: CampaignDb) {
  return cdb
    .selectFrom('flows')
    .innerJoin('flow_versions', (j) =>
      j.onRef('flow_versions.flow_id', '=', 'flows.id').onRef('flow_versions.version', '=', 'flows.current_version'),
    )
    .select([
      'flows.id',
      'flows.key',
      'flows.name',
      'flows.kind',
      'flows.enabled',
      'flows.current_version',
      'definition',
    ]);
}

async function loadFlowIn(cdb: CampaignDb, key: string): Promise<SavedFlow> {
  const row = await currentVersions(cdb).where('flows.key', '=', key).executeTakeFirst();
  if (!row) throw new ComebackError('not_found', `no flow "${key}" (comeback flows list shows them)`);
  const definition = parseStored(row.definition, `flow ${key} v${row.current_version}`);
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled === 1,
    version: row.current_version,
    trigger: definition.trigger.type,
    definition,
  };
}

/** The definition of one version of a flow (a journey finishes the version it entered). */
export async function flowVersion(db: Db, flowId: number, version: number): Promise<FlowDefinition> {
  const row = await campaignDb(db)
    .selectFrom('flow_versions')
    .select('definition')
    .where('flow_id', '=', flowId)
    .where('version', '=', version)
    .executeTakeFirst();
  if (!row) throw new ComebackError('not_found', `flow ${flowId} has no version ${version}`);
  return parseStored(row.definition, `flow ${flowId} v${version}`);
}

/** Every flow (or campaign), with its current version. */
export async function listFlows(db: Db): Promise<FlowSummary[]> {
  const rows = await currentVersions(campaignDb(db)).orderBy('flows.key').execute();
  return rows.map((r) => ({
    id: r.id,
    key: r.key,
    name: r.name,
    kind: r.kind,
    enabled: r.enabled === 1,
    version: r.current_version,
    trigger: parseStored(r.definition, `flow ${r.key}`).trigger.type,
  }));
}

/** Triggers the worker can evaluate today; the others are refused when a flow is enabled. */
export const SUPPORTED_TRIGGERS = new Set([
  'segment_entered',
  'event',
  'order',
  'date',
  'tier_reached',
  'points_expiring',
  'subscribed',
  'replenishment_due',
]);

/**
 * Turns a flow on or off. Turning it on starts its trigger scan from now: events and orders stored
 * before it was enabled do not enter anyone (a store turning on win-back does not mail last year's
 * lapsed customers at once). Returns whether anything changed.
 */
export async function setFlowEnabled(db: Db, key: string, enabled: boolean, now: number): Promise<boolean> {
  const flow = await loadFlow(db, key);
  if (flow.enabled === enabled) return false;
  if (enabled && !SUPPORTED_TRIGGERS.has(flow.definition.trigger.type)) {
    throw new ComebackError(
      'bad_input',
      `flow ${key}: the ${flow.definition.trigger.type} trigger is not evaluated by this version yet`,
    );
  }
  const cdb = campaignDb(db);
  const cursors = enabled
    ? {
        event_cursor: sql<number>`coalesce((select max(id) from events), 0)`,
        order_cursor: sql<number>`coalesce((select max(id) from orders), 0)`,
        tier_cursor: sql<number>`coalesce((select max(id) from loyalty_tier_history), 0)`,
      }
    : {};
  await cdb
    .updateTable('flows')
    .set({ enabled: enabled ? 1 : 0, updated_at: now, ...cursors })
    .where('id', '=', flow.id)
    .execute();
  return true;
}

/** A saved template version. */
export interface SavedTemplate extends CompiledTemplate {
  version: number;
}

/** Saves a template as a new version when it changed (MJML compiled now, once); refuses what would not send. */
export async function saveTemplate(
  db: Db,
  template: TemplateSource,
  now: number,
): Promise<{ template: SavedTemplate; created: boolean }> {
  const compiled = await compileTemplate(template);
  const cdb = campaignDb(db);
  const latest = await latestTemplate(db, template.key).catch(() => undefined);
  if (
    latest &&
    latest.channel === compiled.channel &&
    latest.purpose === compiled.purpose &&
    (latest.subject ?? null) === (compiled.subject ?? null) &&
    latest.body === compiled.body &&
    (latest.text ?? null) === (compiled.text ?? null)
  ) {
    return { template: latest, created: false };
  }
  const version = (latest?.version ?? 0) + 1;
  await cdb
    .insertInto('message_templates')
    .values({
      key: compiled.key,
      version,
      channel: compiled.channel,
      purpose: compiled.purpose,
      subject: compiled.subject ?? null,
      body: compiled.body,
      compiled_html: compiled.compiledHtml,
      text_body: compiled.text ?? null,
      created_at: now,
    })
    .execute();
  return { template: { ...compiled, version }, created: true };
}

/** The newest version of a template; not_found when there is none. */
export async function latestTemplate(db: Db, key: string): Promise<SavedTemplate> {
  return latestTemplateIn(campaignDb(db), key);
}

/** `latestTemplate` inside a transaction that already knows the campaign tables. */
export async function latestTemplateIn(cdb: CampaignDb, key: string): Promise<SavedTemplate> {
  const row = await cdb
    .selectFrom('message_templates')
    .selectAll()
    .where('key', '=', key)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) throw new ComebackError('not_found', `no template "${key}"`);
  return {
    key: row.key,
    version: row.version,
    channel: row.channel,
    purpose: row.purpose,
    subject: row.subject,
    body: row.body,
    text: row.text_body,
    compiledHtml: row.compiled_html,
  };
}

import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { test } from 'node:test';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  UnknownRow,
} from 'kysely';
import { cohortTable, customerSummaries, retentionReport } from '../src/analytics/index.js';
import { EventGroupCommit, importFile } from '../src/ingest/index.js';
import { scoreCustomers } from '../src/predict/index.js';
import { refreshSegments } from '../src/segments/index.js';
import { writeShopifyExport, writeSimulation } from '../src/simulate/index.js';
import { freshDatabase, PG_URL, tempDir } from './setup.js';

/**
 * The shard-key rule of docs/scaling.md, checked on the SQL PostgreSQL really receives: every statement
 * that reads or writes a table distributed by `customer_id` names `customer_id` (a filter, a join
 * condition, a grouping, or the column of the rows it writes), unless it is one of the exceptions below,
 * each with the reason it is allowed and what it costs on Citus.
 */
const DISTRIBUTED = [
  'orders',
  'refunds',
  'events',
  'customer_scores',
  'customer_segments',
  'segment_members',
  'customer_consents',
  'customer_identities',
  'anonymous_ids',
  'customer_groups',
  'journeys',
  'outbox',
  'message_events',
  'loyalty_ledger',
  'loyalty_members',
  'loyalty_orders',
  'loyalty_redemptions',
  'loyalty_tier_history',
  'coupons',
];

/** Statements allowed without `customer_id`: a pattern, and why. */
const EXCEPTIONS: Array<{ pattern: RegExp; reason: string }> = [
  {
    pattern: /^select "message_id" from "events" where "message_id" in/,
    reason: 'event de-duplication by message id: a fan-out query on Citus (see docs/scaling.md)',
  },
  {
    pattern:
      /^select count\(\*\) as n from events e where e\.occurred_at >= \d+ and e\.occurred_at < \d+ and not \("e"\.type in /,
    reason:
      "the report's count of the store's own events in a period (Comeback's are left out): a single-table count that Citus runs on every shard and sums",
  },
  {
    pattern: /^delete from "customer_scores" where "model" = \$1 and "as_of" = \$2/,
    reason: 'replacing a whole scoring run: a multi-shard delete, one per run',
  },
];

class Recorder implements KyselyPlugin {
  readonly statements = new Set<string>();
  constructor(private readonly compile: (args: PluginTransformQueryArgs) => string) {}
  transformQuery(args: PluginTransformQueryArgs) {
    this.statements.add(this.compile(args));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

test('every statement on a table distributed by customer_id names customer_id, or is a listed exception', {
  skip: PG_URL ? false : 'PostgreSQL not available: set COMEBACK_TEST_PG',
}, async () => {
  const t = await freshDatabase('postgres');
  try {
    const base = t.store.db;
    const recorder = new Recorder((args) => base.getExecutor().compileQuery(args.node, args.queryId).sql);
    const db = base.withPlugin(recorder);
    const now = Date.UTC(2026, 0, 1);
    await writeSimulation(db, { customers: 150, months: 12, seed: 5, currency: 'USD', now });
    const file = join(tempDir(), 'store.csv');
    const out = createWriteStream(file);
    await writeShopifyExport(out, { customers: 60, months: 12, seed: 6, currency: 'USD', now });
    out.end();
    await finished(out);
    await importFile(db, file, { format: 'shopify', now, copy: false });
    const asOf = Date.UTC(2025, 0, 1);
    await customerSummaries(db, { asOf, unit: 'week' });
    await retentionReport(db, { asOf });
    await cohortTable(db, { asOf });
    await scoreCustomers(db, { model: 'bgnbd', asOf, now });
    await refreshSegments(db, { asOf });
    const events = new EventGroupCommit(db);
    await events.record([{ type: 'track', event: 'Product Viewed', userId: 'sim-1', messageId: 'k1' }], {
      now,
      userIdSource: 'simulate',
    });

    const names = DISTRIBUTED.join('|');
    const touches = new RegExp(`\\b(from|join|into|update)\\s+"?(${names})"?(\\s|$|\\))`);
    const statements = [...recorder.statements].map((s) => s.replace(/\s+/g, ' ').trim());
    const checked = statements.filter((s) => touches.test(s));
    assert.ok(checked.length >= 15, `the workflow ran ${checked.length} statements on distributed tables`);
    if (process.env.SHARD_DEBUG) for (const s of checked) console.log(s.slice(0, 200));
    const offending = checked.filter((s) => !/customer_id/.test(s) && !EXCEPTIONS.some((e) => e.pattern.test(s)));
    assert.deepEqual(offending, [], 'statements on distributed tables that do not name customer_id');
    // Every exception is still needed: a pattern that no longer matches anything is removed from the list.
    for (const e of EXCEPTIONS)
      assert.ok(
        checked.some((s) => e.pattern.test(s)),
        `unused exception: ${e.reason}`,
      );
  } finally {
    await t.drop();
  }
});

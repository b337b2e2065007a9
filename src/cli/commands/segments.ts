import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { ComebackError } from '../../errors.js';
import {
  type AudienceLayout,
  audienceExport,
  computeClusters,
  computeLifecycle,
  computePersonas,
  computeRfm,
  countBy,
  exportCustomers,
  getSavedSegment,
  LIFECYCLE_STAGES,
  type LifecycleAssignment,
  latestScoresWithoutPAlive,
  lifecycleByRange,
  lifecycleMigration,
  listSavedSegments,
  loadLatestScores,
  membersCsv,
  PERSONA_ORDER,
  PERSONAS,
  type PersonaAssignment,
  parseRule,
  personasByRange,
  RFM_GROUPS,
  refreshSegments,
  rfmColumns,
  rfmScoreAt,
  saveSegment,
  segmentMemberIds,
  segmentSizeHistory,
} from '../../segments/index.js';
import { formatMoney } from '../../shared/money.js';
import { type Db, openStore, type Store } from '../../store/index.js';
import { majorAmount, STORE_COLUMNS, storeColumns, storeCustomers } from '../export-columns.js';
import { formatCount, formatTable, printJson, writeChunk } from '../io.js';
import { AS_OF_HELP, type CommandContext, dbOption, resolveAsOf } from '../shared.js';

interface Flags {
  db?: string;
  asOf?: string;
  json?: boolean;
  csv?: boolean;
}

async function asOfOf(ctx: CommandContext, db: Db, flag: string | undefined): Promise<number> {
  return (await resolveAsOf(ctx, db, flag)).asOf;
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ComebackError('usage', `${flag} ${value}: must be a positive number`);
  return n;
}

async function withStore<T>(
  ctx: CommandContext,
  flags: { db?: string },
  run: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(ctx.config(flags).dbUrl);
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

const pct = (part: number, whole: number) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)} %`);
/** The mean, or null for no values: an empty group has no average recency or spend, not 0. */
const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length);

/**
 * Each of the eleven RFM groups in order: its customers and their average recency (days), orders and
 * spend (minor units), the averages null when the group is empty.
 */
function rfmGroupSummary(
  customers: Array<{ group: string; recencyDays: number; frequency: number; monetaryMinor: number }>,
) {
  return countBy(
    customers.map((c) => c.group),
    RFM_GROUPS,
  ).map(({ value, count }) => {
    const members = customers.filter((c) => c.group === value);
    return {
      group: value,
      customers: count,
      avgRecencyDays: mean(members.map((c) => c.recencyDays)),
      avgOrders: mean(members.map((c) => c.frequency)),
      avgSpendMinor: mean(members.map((c) => c.monetaryMinor)),
    };
  });
}

async function output(
  ctx: CommandContext,
  flags: Flags,
  { json, csv, table }: { json: () => unknown; csv?: () => Promise<void>; table: () => string },
): Promise<void> {
  if (flags.json && flags.csv) throw new ComebackError('usage', 'choose one of --json and --csv');
  if (flags.json) printJson(ctx.io, json());
  else if (flags.csv && csv) await csv();
  else ctx.io.out.write(`${table()}\n`);
}

/** Rows of a per-customer CSV per chunk: each chunk's store ids are read, written and let go. */
const CSV_CHUNK = 2_000;

/**
 * A CSV of one row per customer: `customer_id`, the store's columns (`STORE_COLUMNS`: source, store id,
 * e-mail, so the file can be matched back to the store's records), then `columns` from `cells`.
 * Written 2,000 customers at a time (each chunk's store ids read then), waiting for the reader, so a
 * million customers are never one string.
 */
async function customerCsv<T extends { customerId: number }>(
  io: CommandContext['io'],
  db: Db,
  items: readonly T[],
  columns: readonly string[],
  cells: (item: T) => unknown[],
  { header: withHeader = true }: { header?: boolean } = {},
): Promise<void> {
  const header = ['customer_id', ...STORE_COLUMNS, ...columns];
  if (items.length === 0 && withHeader) await writeChunk(io, stringify([], { header: true, columns: header }));
  for (let start = 0; start < items.length; start += CSV_CHUNK) {
    const chunk = items.slice(start, start + CSV_CHUNK);
    const known = await storeCustomers(
      db,
      chunk.map((item) => item.customerId),
    );
    const rows = chunk.map((item) => [item.customerId, ...storeColumns(known(item.customerId)), ...cells(item)]);
    await writeChunk(io, stringify(rows, { header: withHeader && start === 0, columns: header }));
  }
}

/**
 * `segments rfm --csv`: one row per customer, written 2,000 at a time from the RFM columns (waiting
 * for the reader), so a store of a million customers is never one array of rows or one string.
 */
async function rfmCsv(ctx: CommandContext, db: Db, asOf: number): Promise<void> {
  const columns = await rfmColumns(db, { asOf });
  const currency = columns.currency ?? 'USD';
  const header = [
    'customer_id',
    ...STORE_COLUMNS,
    'r',
    'f',
    'm',
    'recency_days',
    'frequency',
    'monetary',
    'currency',
    'group',
    'reason',
  ];
  const n = columns.customerId.length;
  if (n === 0) await writeChunk(ctx.io, stringify([], { header: true, columns: header }));
  for (let start = 0; start < n; start += CSV_CHUNK) {
    const end = Math.min(n, start + CSV_CHUNK);
    const known = await storeCustomers(db, columns.customerId.slice(start, end));
    const rows = [];
    for (let i = start; i < end; i++) {
      const c = rfmScoreAt(columns, i);
      rows.push([
        c.customerId,
        ...storeColumns(known(c.customerId)),
        c.r,
        c.f,
        c.m,
        c.recencyDays,
        c.frequency,
        majorAmount(c.monetaryMinor, currency),
        currency,
        c.group,
        c.reason,
      ]);
    }
    await writeChunk(ctx.io, stringify(rows, { header: start === 0, columns: header }));
  }
}

function view(parent: Command, name: string, description: string): Command {
  return dbOption(
    parent
      .command(name)
      .description(description)
      .option('--as-of <date>', AS_OF_HELP)
      .option('--json', 'print JSON')
      .option('--csv', 'print one row per customer as CSV'),
  );
}

/** `comeback segments …`: RFM groups, personas, lifecycle stages, clusters and saved rule segments. */
export function registerSegments(program: Command, ctx: CommandContext): void {
  const segments = program
    .command('segments')
    .description('who each customer is to the store, why, and what to do about it');

  view(segments, 'rfm', 'RFM scores 1–5 by quintiles and the eleven named RFM groups').action((flags: Flags) =>
    withStore(ctx, flags, async (store) => {
      if (flags.json && flags.csv) throw new ComebackError('usage', 'choose one of --json and --csv');
      const asOf = await asOfOf(ctx, store.db, flags.asOf);
      if (flags.csv) {
        await rfmCsv(ctx, store.db, asOf);
        return;
      }
      const result = await computeRfm(store.db, { asOf });
      const currency = result.currency ?? 'USD';
      await output(ctx, flags, {
        json: () => ({ ...result, groups: rfmGroupSummary(result.customers) }),
        table: () => {
          const n = result.customers.length;
          const dash = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));
          const rows = rfmGroupSummary(result.customers).map((g) => [
            g.group,
            formatCount(g.customers),
            pct(g.customers, n),
            dash(g.avgRecencyDays, 0),
            dash(g.avgOrders, 1),
            g.avgSpendMinor === null ? '–' : formatMoney(Math.round(g.avgSpendMinor), currency),
          ]);
          return `${formatTable([['group', 'customers', 'share', 'avg recency (days)', 'avg orders', 'avg spend'], ...rows])}\n\n${formatCount(n)} customers with a sale in ${result.currency ?? '–'}`;
        },
      });
    }),
  );

  view(segments, 'personas', 'behavioural personas from events and orders, with the play for each')
    .option('--cart-window <hours>', 'hours after adding to cart within which an order must follow', '24')
    .option('--lookback <days>', 'days of site behaviour that count', '30')
    .option('--first-order-threshold <minor>', 'first-order value (minor units) from which a first-timer is high value')
    .action((flags: Flags & { cartWindow: string; lookback: string; firstOrderThreshold?: string }) =>
      withStore(ctx, flags, async (store) => {
        const options = {
          asOf: await asOfOf(ctx, store.db, flags.asOf),
          cartWindowHours: positive('--cart-window', flags.cartWindow),
          lookbackDays: positive('--lookback', flags.lookback),
          firstOrderThresholdMinor: positive('--first-order-threshold', flags.firstOrderThreshold),
        };
        if (flags.csv && !flags.json) {
          // Written a range of customers at a time: the store's personas are never all held.
          let first = true;
          for await (const range of personasByRange(store.db, options)) {
            if (range.length === 0) continue;
            const cells = (p: PersonaAssignment) => [p.persona, p.reason, p.play];
            await customerCsv(ctx.io, store.db, range, ['group', 'reason', 'play'], cells, { header: first });
            first = false;
          }
          if (first) await customerCsv(ctx.io, store.db, [], ['group', 'reason', 'play'], () => []);
          return;
        }
        const personas = await computePersonas(store.db, options);
        await output(ctx, flags, {
          json: () => personas,
          csv: () =>
            customerCsv(ctx.io, store.db, personas, ['group', 'reason', 'play'], (p) => [p.persona, p.reason, p.play]),
          table: () =>
            formatTable([
              ['persona', 'customers', 'share', 'play'],
              ...countBy(
                personas.map((p) => p.persona),
                PERSONA_ORDER,
              ).map(({ value, count }) => [
                PERSONAS[value].label,
                formatCount(count),
                pct(count, personas.length),
                PERSONAS[value].play,
              ]),
            ]),
        });
      }),
    );

  view(segments, 'lifecycle', 'lifecycle stages: new, active, at risk, lapsed, churned')
    .option('--model <model>', 'use the stored scores of this model (default: the latest of any)')
    .action((flags: Flags & { model?: string }) =>
      withStore(ctx, flags, async (store) => {
        const asOf = await asOfOf(ctx, store.db, flags.asOf);
        const scores = await loadLatestScores(store.db, { model: flags.model, asOf });
        const withoutPAlive = scores
          ? undefined
          : await latestScoresWithoutPAlive(store.db, { model: flags.model, asOf });
        const columns = ['days_since_last_order', 'orders', 'p_alive', 'group', 'reason'];
        const cells = (c: LifecycleAssignment) => [c.daysSinceLastSale, c.sales, c.pAlive ?? '', c.stage, c.reason];
        if (flags.csv && !flags.json) {
          // Written a range of customers at a time: the store's stages are never all held.
          let first = true;
          for await (const range of lifecycleByRange(store.db, { asOf, scores })) {
            if (range.customers.length === 0) continue;
            await customerCsv(ctx.io, store.db, range.customers, columns, cells, { header: first });
            first = false;
          }
          if (first) await customerCsv(ctx.io, store.db, [], columns, cells);
          return;
        }
        const result = await computeLifecycle(store.db, { asOf, scores });
        await output(ctx, flags, {
          json: () => ({ ...result, scored: scores?.size ?? 0, pAliveNote: withoutPAlive ?? null }),
          table: () => {
            const n = result.customers.length;
            const t = result.thresholds;
            return `${formatTable([
              ['stage', 'customers', 'share'],
              ...countBy(
                result.customers.map((c) => c.stage),
                LIFECYCLE_STAGES,
              ).map(({ value, count }) => [value.replace('_', ' '), formatCount(count), pct(count, n)]),
            ])}\n\n${
              scores
                ? `${formatCount(scores.size)} customers staged by model scores, the others by days since their last order`
                : withoutPAlive
                  ? `the stored model scores have no P(alive) (${withoutPAlive}): stages from days since the last order, the recency rule`
                  : 'no model scores stored: stages from days since the last order'
            }: at risk beyond ${t.atRiskDays.toFixed(1)} days, lapsed beyond ${t.lapsedDays.toFixed(1)}, churned beyond ${t.churnedDays.toFixed(1)} (from ${formatCount(t.gaps)} gaps between orders)`;
          },
        });
      }),
    );

  view(
    segments,
    'clusters',
    'data-driven personas: k-means over recency, frequency, spend, categories, discounts, country',
  )
    .option('--k <n>', 'number of clusters', '5')
    .option('--seed <n>', 'seed of the k-means++ start', '1')
    .action((flags: Flags & { k: string; seed: string }) =>
      withStore(ctx, flags, async (store) => {
        const k = positive('--k', flags.k)!;
        const result = await computeClusters(store.db, {
          asOf: await asOfOf(ctx, store.db, flags.asOf),
          k: Math.round(k),
          seed: Number(flags.seed) || 1,
        });
        const labels = new Map(result.cards.map((c) => [c.cluster, c.label]));
        const currency = result.currency ?? 'USD';
        await output(ctx, flags, {
          json: () => result,
          csv: () =>
            customerCsv(ctx.io, store.db, result.members, ['cluster', 'group', 'reason'], (m) => [
              m.cluster,
              labels.get(m.cluster) ?? '',
              `cluster ${m.cluster} of k-means over ${result.features.length} features`,
            ]),
          table: () =>
            formatTable([
              [
                'cluster',
                'persona',
                'customers',
                'share',
                'revenue',
                'typical order',
                'orders',
                'days since',
                'top countries',
                'top categories',
                'median age',
              ],
              ...result.cards.map((c) => [
                c.cluster,
                c.label,
                formatCount(c.size),
                pct(c.share, 1),
                pct(c.revenueShare, 1),
                formatMoney(c.typicalOrderMinor, currency),
                c.typicalOrders,
                c.typicalRecencyDays,
                c.topCountries.map((x) => x.country).join(', '),
                c.topCategories.map((x) => x.category).join(', ') || '–',
                c.medianAge === null ? '–' : String(c.medianAge),
              ]),
            ]),
        });
      }),
    );

  dbOption(
    segments
      .command('save')
      .description('save a rule segment (JSON rules) and compute its members')
      .argument('<name>', 'segment name')
      .requiredOption('--rules <file>', 'JSON file with the rule')
      .option('--tz <zone>', 'IANA time zone of the store, for dates and times written without an offset', 'UTC')
      .option('--as-of <date>', AS_OF_HELP)
      .option('--json', 'print JSON'),
  ).action((name: string, flags: { db?: string; rules: string; tz: string; asOf?: string; json?: boolean }) =>
    withStore(ctx, flags, async (store) => {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(flags.rules, 'utf8'));
      } catch (error) {
        throw new ComebackError(
          'bad_input',
          `cannot read JSON rules: ${error instanceof Error ? error.message : String(error)}`,
          {
            location: { file: flags.rules },
            cause: error,
          },
        );
      }
      let rule: ReturnType<typeof parseRule>;
      try {
        rule = parseRule(raw, 'rules', { timeZone: flags.tz });
      } catch (error) {
        if (error instanceof ComebackError) {
          throw new ComebackError(error.kind, error.message, {
            location: { file: flags.rules, field: error.location?.field },
          });
        }
        throw error;
      }
      const asOf = await asOfOf(ctx, store.db, flags.asOf);
      const { segment, size } = await saveSegment(store.db, name, rule, { asOf, now: ctx.now() });
      if (flags.json) printJson(ctx.io, { name: segment.name, id: segment.id, size, rule: segment.rule });
      else ctx.io.out.write(`saved segment ${segment.name}: ${formatCount(size)} customers\n`);
    }),
  );

  dbOption(
    segments
      .command('show')
      .description('a saved segment: its rule, size over time, members')
      .argument('<name>', 'segment name')
      .option('--csv', 'print the members as CSV')
      .option('--audience', 'print the members as an ad-platform custom-audience file (hashed)')
      .option('--layout <layout>', 'audience layout: meta or google', 'meta')
      .option('--include-refused', 'also export customers who refused marketing (left out by default)')
      .option('--json', 'print JSON'),
  ).action(
    (
      name: string,
      flags: {
        db?: string;
        csv?: boolean;
        audience?: boolean;
        layout: string;
        includeRefused?: boolean;
        json?: boolean;
      },
    ) =>
      withStore(ctx, flags, async (store) => {
        if (flags.layout !== 'meta' && flags.layout !== 'google') {
          throw new ComebackError('usage', `--layout ${flags.layout}: choose meta or google`);
        }
        if ([flags.csv, flags.audience, flags.json].filter(Boolean).length > 1) {
          throw new ComebackError('usage', 'choose one of --csv, --audience and --json');
        }
        const segment = await getSavedSegment(store.db, name);
        const ids = await segmentMemberIds(store.db, segment.id);
        if (flags.csv || flags.audience) {
          const customers = await exportCustomers(store.db, ids);
          if (flags.csv) {
            ctx.io.out.write(membersCsv(customers));
            return;
          }
          const audience = audienceExport(customers, flags.layout as AudienceLayout, {
            includeRefused: flags.includeRefused === true,
          });
          ctx.io.out.write(audience.csv);
          ctx.io.err.write(
            `${formatCount(audience.rows)} customers exported; left out: ${formatCount(audience.refused)} who refused marketing${flags.includeRefused ? '' : ' (--include-refused to add them)'}, ${formatCount(audience.unmatchable)} with neither e-mail nor phone\n`,
          );
          return;
        }
        const sizes = await segmentSizeHistory(store.db, segment.id);
        if (flags.json) {
          printJson(ctx.io, { ...segment, size: ids.length, sizes, members: ids });
          return;
        }
        ctx.io.out.write(
          `${segment.name}: ${formatCount(ids.length)} customers\nrule: ${JSON.stringify(segment.rule)}\n\n`,
        );
        ctx.io.out.write(
          `${formatTable([['as of', 'size'], ...sizes.map((s) => [new Date(s.asOf).toISOString().slice(0, 16).replace('T', ' '), formatCount(s.size)])])}\n`,
        );
      }),
  );

  dbOption(
    segments.command('list').description('saved segments and their sizes').option('--json', 'print JSON'),
  ).action((flags: { db?: string; json?: boolean }) =>
    withStore(ctx, flags, async (store) => {
      const list = [];
      for (const s of await listSavedSegments(store.db)) {
        list.push({ name: s.name, size: (await segmentMemberIds(store.db, s.id)).length, rule: s.rule });
      }
      if (flags.json) printJson(ctx.io, list);
      else
        ctx.io.out.write(
          `${formatTable([['segment', 'customers', 'rule'], ...list.map((s) => [s.name, formatCount(s.size), JSON.stringify(s.rule)])])}\n`,
        );
    }),
  );

  dbOption(
    segments
      .command('refresh')
      .description(
        'store every customer’s RFM group, persona and stage (stage changes become events) and update saved segments',
      )
      .option('--as-of <date>', AS_OF_HELP)
      .option('--json', 'print JSON'),
  ).action((flags: { db?: string; asOf?: string; json?: boolean }) =>
    withStore(ctx, flags, async (store) => {
      const asOf = await asOfOf(ctx, store.db, flags.asOf);
      const scores = await loadLatestScores(store.db, { asOf });
      const summary = await refreshSegments(store.db, { asOf, scores });
      if (flags.json) {
        printJson(ctx.io, summary);
        return;
      }
      ctx.io.out.write(
        `${formatCount(summary.customers)} customers, ${formatCount(summary.changes.total)} label changes (${formatCount(summary.changes.stageMoves)} stage moves); ${formatCount(summary.changes.events)} lifecycle events recorded (segment_entered / segment_exited)\n`,
      );
      if (summary.segments.length > 0) {
        ctx.io.out.write(
          `${formatTable([['segment', 'size', 'joined', 'left'], ...summary.segments.map((s) => [s.name, formatCount(s.size), formatCount(s.joined), formatCount(s.left)])])}\n`,
        );
      }
    }),
  );

  dbOption(
    segments
      .command('migration')
      .description('how customers moved between lifecycle stages from one date to another')
      .requiredOption('--from <date>', 'first date: the stages as of the end of this day, YYYY-MM-DD')
      .requiredOption(
        '--to <date>',
        'second date: the stages as of the end of this day, YYYY-MM-DD (the to column is `segments lifecycle --as-of` this date)',
      )
      .option('--model <model>', 'use the stored scores of this model (default: the latest of any)')
      .option('--json', 'print JSON'),
  ).action((flags: { db?: string; from: string; to: string; model?: string; json?: boolean }) =>
    withStore(ctx, flags, async (store) => {
      // Both dates read exactly as `--as-of` does, so that the to column is `segments lifecycle --as-of TO`.
      const from = await asOfOf(ctx, store.db, flags.from);
      const to = await asOfOf(ctx, store.db, flags.to);
      if (from > to) throw new ComebackError('usage', `--from ${flags.from} is after --to ${flags.to}`);
      const matrix = await lifecycleMigration(store.db, {
        from,
        to,
        scoresFrom: await loadLatestScores(store.db, { model: flags.model, asOf: from }),
        scoresTo: await loadLatestScores(store.db, { model: flags.model, asOf: to }),
      });
      if (flags.json) {
        printJson(ctx.io, matrix);
        return;
      }
      const names = matrix.stages.map((s) => s.replace('_', ' '));
      const t = matrix.thresholds;
      ctx.io.out.write(
        `${formatTable([[`${flags.from} \\ ${flags.to}`, ...names], ...matrix.counts.map((row, i) => [names[i]!, ...row.map((n) => formatCount(n))])])}\n\nboth dates staged with the thresholds as of ${flags.to}: at risk beyond ${t.atRiskDays.toFixed(1)} days, lapsed beyond ${t.lapsedDays.toFixed(1)}, churned beyond ${t.churnedDays.toFixed(1)}; model scores as each date had them\n`,
      );
    }),
  );
}

/**
 * `npm run bench:campaigns [-- --messages N] [--db sqlite|postgres]`: a flow enqueues N e-mails (default
 * 100,000) into the outbox of a fresh database (a SQLite file, or a fresh database on the PostgreSQL
 * server of COMEBACK_TEST_PG) — enrolment, the engine, the policy check and the Liquid render of each
 * message — and the worker's delivery step sends them to a real SMTP server on loopback (smtp-server,
 * not parsing). Two references measured in the same run: for enqueueing, a bare multi-row insert of
 * the same N outbox rows (as written, payloads included) into a copy of the table, 500 rows a
 * statement in one transaction; for delivery, a bare loop over a pooled nodemailer transport sending
 * the same rendered messages with the same concurrency. Prints the times, messages per second, the
 * ratios (delivery target ≥ 0.5×) and the peak memory.
 */
import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import {
  advanceJourneys,
  deliverDue,
  enrolNewEntrants,
  saveFlow,
  saveTemplate,
  setFlowEnabled,
  smtpSender,
  validateFlow,
} from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { freshDatabase } from '../test/setup.js';
import { startSmtpSink } from '../test/smtp-sink.js';

const arg = process.argv.indexOf('--messages');
const N = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;
const dbArg = process.argv.indexOf('--db');
const dialect = dbArg > 0 ? process.argv[dbArg + 1] : 'sqlite';
if (dialect !== 'sqlite' && dialect !== 'postgres') throw new Error(`--db ${dialect}: sqlite or postgres`);
const CONCURRENCY = 10;
const perSecond = (n: number, ms: number) => Math.round(n / (ms / 1000));
const fmt = (n: number) => n.toLocaleString('en-US');

const sink = await startSmtpSink({ parse: false });
const fresh = await freshDatabase(dialect);
try {
  const db = fresh.store.db;
  const now = Date.UTC(2026, 5, 1, 12);
  console.log(
    `bench:campaigns (${dialect}): ${fmt(N)} customers with e-mail consent, one flow, SMTP on 127.0.0.1:${sink.port}`,
  );
  for (let start = 1; start <= N; start += 5000) {
    const ids = Array.from({ length: Math.min(5000, N - start + 1) }, (_, i) => start + i);
    await db.transaction().execute(async (trx) => {
      for (const part of chunk(ids, 500)) {
        await trx
          .insertInto('customers')
          .values(
            part.map((id) => ({
              id,
              source: 'bench',
              email: `c${id}@example.com`,
              first_name: `Name${id}`,
              first_seen_at: now,
              created_at: now,
            })),
          )
          .execute();
        await trx
          .insertInto('customer_consents')
          .values(
            part.map((id) => ({ customer_id: id, channel: 'email', granted: 1, updated_at: now - 1, source: 'bench' })),
          )
          .execute();
      }
    });
  }
  await saveTemplate(
    db,
    {
      key: 'news',
      channel: 'email',
      purpose: 'marketing',
      subject: 'News for {{ customer.first_name }}',
      body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}, here is our news.</mj-text><mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
    },
    now,
  );
  const parsed = validateFlow({
    key: 'news',
    name: 'News',
    trigger: { type: 'event', events: ['Subscribed'] },
    holdoutShare: 0,
    steps: [{ id: 's', type: 'send', channels: ['email'], template: 'news', purpose: 'marketing' }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  await saveFlow(db, parsed.flow, now);
  await setFlowEnabled(db, 'news', true, now);
  for (const part of chunk(
    Array.from({ length: N }, (_, i) => i + 1),
    1000,
  )) {
    await db
      .insertInto('events')
      .values(
        part.map((id) => ({
          message_id: `sub-${id}`,
          type: 'track',
          event: 'Subscribed',
          customer_id: id,
          properties: '{}',
          occurred_at: now,
          received_at: now,
        })),
      )
      .execute();
  }

  // Enqueue: enrolment, the engine, the policy and the render of every message.
  const enqueueStart = performance.now();
  let entered = 0;
  for (;;) {
    const e = await enrolNewEntrants(db, now + 1);
    entered += e.entered;
    if (e.entered + e.skipped === 0) break;
  }
  const enrolMs = performance.now() - enqueueStart;
  let queued = 0;
  for (;;) {
    const a = await advanceJourneys(db, { now: now + 1, linkSecret: 'bench', limit: 2000 });
    queued += a.queued;
    if (a.journeys === 0) break;
  }
  const enqueueMs = performance.now() - enqueueStart;
  const rssAfterEnqueue = process.resourceUsage().maxRSS / 1024;

  // Deliver: claim, send, record, CONCURRENCY at a time.
  const email = smtpSender({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, maxConnections: CONCURRENCY });
  const deliverStart = performance.now();
  let sent = 0;
  for (;;) {
    const d = await deliverDue(
      db,
      { email },
      { now: () => now + 2, random: Math.random, limit: 1000, concurrency: CONCURRENCY },
    );
    sent += d.sent;
    if (d.claimed === 0) break;
  }
  const deliverMs = performance.now() - deliverStart;
  await email.close?.();
  const rssAfterOutbox = process.resourceUsage().maxRSS / 1024;

  // Reference for enqueueing: the same N outbox rows by a bare multi-row insert into a copy. It runs after
  // delivery (the rows as they stand then, same shape and payloads) because it reads all N rows into
  // memory, which would hide the outbox's own peak.
  const written = await campaignDb(db).selectFrom('outbox').selectAll().orderBy('id').execute();
  await sql`CREATE TABLE outbox_reference AS SELECT * FROM outbox WHERE 1 = 0`.execute(db);
  const insertStart = performance.now();
  await db.transaction().execute(async (trx) => {
    for (const part of chunk(written, 500)) {
      await campaignDb(trx)
        .withTables<{ outbox_reference: (typeof written)[number] }>()
        .insertInto('outbox_reference')
        .values(part)
        .execute();
    }
  });
  const insertMs = performance.now() - insertStart;
  await sql`DROP TABLE outbox_reference`.execute(db);

  // Reference: the same rendered messages through a bare pooled nodemailer loop, same concurrency.
  const payloads = await campaignDb(db).selectFrom('outbox').select(['to_address', 'payload', 'message_id']).execute();
  await fresh.drop();
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: sink.port,
    pool: true,
    maxConnections: CONCURRENCY,
    maxMessages: Number.POSITIVE_INFINITY,
    ignoreTLS: true,
  });
  const before = sink.received.length;
  const refStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < payloads.length) {
        const row = payloads[next++]!;
        const p = JSON.parse(row.payload ?? '{}');
        await transport.sendMail({
          messageId: row.message_id,
          from: p.from,
          to: row.to_address!,
          subject: p.subject,
          html: p.html,
          text: p.text,
          headers: p.headers,
        });
      }
    }),
  );
  const refMs = performance.now() - refStart;
  transport.close();
  const refSent = sink.received.length - before;

  const rate = perSecond(sent, deliverMs);
  const refRate = perSecond(refSent, refMs);
  console.log(
    `entered ${fmt(entered)} in ${(enrolMs / 1000).toFixed(1)} s, queued ${fmt(queued)}: enqueue ${(enqueueMs / 1000).toFixed(1)} s in all, ${fmt(perSecond(queued, enqueueMs))} messages/s (peak RSS so far ${Math.round(rssAfterEnqueue)} MiB)`,
  );
  console.log(
    `reference, bare multi-row insert of the same ${fmt(written.length)} outbox rows: ${(insertMs / 1000).toFixed(1)} s, ${fmt(perSecond(written.length, insertMs))} rows/s; enqueue takes ${(enqueueMs / insertMs).toFixed(1)}× as long`,
  );
  console.log(`outbox → SMTP: ${fmt(sent)} sent in ${(deliverMs / 1000).toFixed(1)} s: ${fmt(rate)} messages/s`);
  console.log(
    `reference, bare pooled nodemailer: ${fmt(refSent)} in ${(refMs / 1000).toFixed(1)} s: ${fmt(refRate)} messages/s`,
  );
  console.log(`ratio (outbox ÷ bare loop): ${(rate / refRate).toFixed(2)}× (target ≥ 0.5×)`);
  console.log(`end to end (enqueue + deliver): ${fmt(perSecond(sent, enqueueMs + deliverMs))} messages/s`);
  // The two references read every row and payload into arrays, so the peak after them is the bench's own,
  // not the outbox's: both are printed.
  console.log(
    `peak RSS: ${Math.round(rssAfterOutbox)} MiB through enqueue and delivery; ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB after the references, which hold every row in memory`,
  );
} finally {
  await sink.close();
  await fresh.drop().catch(() => undefined);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

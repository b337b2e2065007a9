import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildApp } from '../src/api/build-app.js';
import { createApiKey, messageLinkSecret } from '../src/api/keys.queries.js';
import { helpdeskPass, queueHelpdeskAlerts, saveMessagingSettings } from '../src/campaigns/index.js';
import { campaignDb } from '../src/campaigns/tables.js';
import { importFeedbackCsv, issueSurveyLink } from '../src/feedback/index.js';
import { addCustomer } from './loyalty-fixtures.js';
import { DIALECTS, freshDatabase } from './setup.js';

/**
 * Detractors and low CSAT reach a helpdesk: a real HTTP receiver on loopback checks every request's
 * signature with a key it computes itself (HMAC-SHA256(link secret, "helpdesk"), then HMAC-SHA256 of
 * "t.body" as the webhook channel signs), answers 503 once, and must end up with each alert exactly once.
 */

const DAY = 86_400_000;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

interface Received {
  body: string;
  signature: string;
  status: number;
}

/** A loopback receiver that answers 503 to its first `failFirst` requests, then 200. */
async function receiver(failFirst: number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const status = got.length < failFirst ? 503 : 200;
      got.push({ body, signature: String(request.headers['x-comeback-signature'] ?? ''), status });
      response.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"id":"T-1"}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`, got };
}

/** What the receiver checks: `t=<s>,v1=<hex>` where hex is HMAC-SHA256(key, "t.body"), key derived by hand. */
function signatureValid(linkSecret: string, r: Received): boolean {
  const key = createHmac('sha256', linkSecret).update('helpdesk').digest('hex');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.signature);
  if (!match) return false;
  return createHmac('sha256', key).update(`${match[1]}.${r.body}`).digest('hex') === match[2];
}

for (const dialect of DIALECTS) {
  describe(`helpdesk alerts on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('alerts from the hosted page, the API and a CSV import are sent once each, signed, retried after a 503', async () => {
      const NOW = Date.UTC(2026, 4, 20, 10);
      const t = await freshDatabase(dialect.name);
      const hook = await receiver(1);
      const app = await buildApp({ store: t.store, now: () => NOW, rateLimit: false });
      try {
        const db = t.store.db;
        await saveMessagingSettings(db, { helpdeskUrl: hook.url });
        const linkSecret = await messageLinkSecret(db);
        const key = createHmac('sha256', linkSecret).update('helpdesk').digest('hex');
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        const ana = await addCustomer(db, { email: 'ana@example.com' });
        const bo = await addCustomer(db, { email: 'bo@example.com' });
        await addCustomer(db, { email: 'cy@example.com' });

        // The hosted CSAT page: 2 is low (an alert), 3 is not.
        for (const score of [2, 3]) {
          const link = await issueSurveyLink(db, linkSecret, { surveyKey: 'csat', customerId: ana, now: NOW });
          const answered = await fetch(`${base}/s/${link.token}`, {
            method: 'POST',
            headers: form,
            body: `score=${score}&comment=${encodeURIComponent('late parcel')}`,
          });
          assert.equal(answered.status, 200, await answered.text());
        }
        // The API: an NPS of 6 is a detractor, 7 is a passive.
        const { key: writeKey } = await createApiKey(db, { scope: 'write', now: NOW });
        for (const [id, score] of [
          ['zd-6', 6],
          ['zd-7', 7],
        ] as const) {
          const posted = await fetch(`${base}/api/v1/survey-responses`, {
            method: 'POST',
            headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ id, survey: 'nps', customerId: bo, answers: { score } }),
          });
          assert.equal(posted.status, 201, await posted.text());
        }
        // A CSV import: a detractor from yesterday, one exactly 7 days old (still fresh) and one 7 days
        // and a millisecond old (stale: not sent).
        const iso = (ms: number) => new Date(ms).toISOString();
        const csv = [
          'survey,customer,answered_at,id,score,comment',
          `nps,cy@example.com,${iso(NOW - DAY)},a,0,never again`,
          `nps,cy@example.com,${iso(NOW - 7 * DAY)},b,1,`,
          `nps,cy@example.com,${iso(NOW - 7 * DAY - 1)},c,2,`,
          `nps,cy@example.com,${iso(NOW - DAY)},d,9,`,
        ].join('\n');
        assert.equal((await importFeedbackCsv(db, csv, { file: 'answers.csv', now: NOW })).created, 4);

        const first = await helpdeskPass(db, { now: () => NOW, random: () => 0, signingKey: key });
        assert.equal(first.queued, 4, 'CSAT 2, NPS 6, NPS 0, NPS 1 (7 days old)');
        assert.equal(first.stale, 1, 'the answer older than 7 days');
        assert.deepEqual(
          { sent: first.delivered?.sent, retried: first.delivered?.retried, failed: first.delivered?.failed },
          { sent: 3, retried: 1, failed: 0 },
        );
        // Back-off for the first retry is at most 30 s; a minute later it goes.
        const second = await helpdeskPass(db, { now: () => NOW + 60_000, random: () => 0, signingKey: key });
        assert.equal(second.delivered?.sent, 1);
        const third = await helpdeskPass(db, { now: () => NOW + 120_000, random: () => 0, signingKey: key });
        assert.equal(third.queued + (third.delivered?.claimed ?? 0), 0, 'nothing twice');

        assert.equal(hook.got.length, 5, '4 alerts and one retry');
        for (const r of hook.got) assert.ok(signatureValid(linkSecret, r), r.signature);
        const bodies = hook.got.map((r) => JSON.parse(r.body) as Record<string, unknown>);
        const delivered = hook.got.filter((r) => r.status === 200).map((r) => JSON.parse(r.body));
        const seen = delivered
          .map((b) => `${b.type}|${b.survey}|${b.score}|${b.customer.email}|${b.source}|${b.answeredAt}`)
          .sort();
        assert.deepEqual(seen, [
          `Low CSAT|csat|2|ana@example.com|link|${iso(NOW)}`,
          `NPS Detractor|nps|0|cy@example.com|import|${iso(NOW - DAY)}`,
          `NPS Detractor|nps|1|cy@example.com|import|${iso(NOW - 7 * DAY)}`,
          `NPS Detractor|nps|6|bo@example.com|api|${iso(NOW)}`,
        ]);
        assert.equal(new Set(delivered.map((b) => b.message_id)).size, 4);
        const retried = bodies[0]!;
        assert.equal(
          bodies.filter((b) => b.message_id === retried.message_id).length,
          2,
          'the 503 was sent again, same id',
        );
        assert.equal(delivered.find((b) => b.score === 2).comment, 'late parcel');
        // A tampered body does not pass the receiver's check.
        assert.equal(
          signatureValid(linkSecret, { ...hook.got[0]!, body: hook.got[0]!.body.replace('"score"', '"Score"') }),
          false,
        );

        const rows = await campaignDb(db)
          .selectFrom('outbox')
          .select(['status', 'attempts'])
          .where('channel', '=', 'helpdesk')
          .execute();
        assert.deepEqual(rows.map((r) => `${r.status}:${r.attempts}`).sort(), ['sent:1', 'sent:1', 'sent:1', 'sent:2']);

        // Another process reading from the start queues nothing again: each alert has its natural key.
        await campaignDb(db)
          .updateTable('messaging_settings')
          .set({ value: '0' })
          .where('name', '=', 'helpdesk_cursor')
          .execute();
        assert.deepEqual(await queueHelpdeskAlerts(db, { now: NOW }), { queued: 0, stale: 1 });
      } finally {
        await app.close();
        await t.drop();
        hook.server.close();
      }
    });

    test('without a helpdesk address alerts wait; set later, the fresh ones go', async () => {
      const NOW = Date.UTC(2026, 4, 20, 10);
      const t = await freshDatabase(dialect.name);
      const hook = await receiver(0);
      try {
        const db = t.store.db;
        const linkSecret = await messageLinkSecret(db);
        const key = createHmac('sha256', linkSecret).update('helpdesk').digest('hex');
        await addCustomer(db, { email: 'dee@example.com' });
        await importFeedbackCsv(
          db,
          `survey,customer,answered_at,score\ncsat,dee@example.com,${new Date(NOW).toISOString()},1\n`,
          {
            file: 'a.csv',
            now: NOW,
          },
        );
        const idle = await helpdeskPass(db, { now: () => NOW, random: () => 0, signingKey: key });
        assert.deepEqual(idle, { queued: 0, stale: 0, delivered: null });
        await saveMessagingSettings(db, { helpdeskUrl: hook.url });
        const later = await helpdeskPass(db, { now: () => NOW + DAY, random: () => 0, signingKey: key });
        assert.equal(later.queued, 1);
        assert.equal(later.delivered?.sent, 1);
        assert.equal(JSON.parse(hook.got[0]!.body).type, 'Low CSAT');
        assert.ok(signatureValid(linkSecret, hook.got[0]!));
      } finally {
        await t.drop();
        hook.server.close();
      }
    });

    test('`comeback serve` sends a detractor answered on its survey page to the helpdesk', async () => {
      const t = await freshDatabase(dialect.name);
      const hook = await receiver(0);
      const db = t.store.db;
      await saveMessagingSettings(db, { helpdeskUrl: hook.url });
      const linkSecret = await messageLinkSecret(db);
      const customer = await addCustomer(db, { email: 'eve@example.com' });
      const link = await issueSurveyLink(db, linkSecret, { surveyKey: 'nps', customerId: customer, now: Date.now() });
      const main = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
      const child = spawn(
        process.execPath,
        [
          '--import',
          import.meta.resolve('tsx'),
          main,
          'serve',
          '--port',
          '0',
          '--helpdesk-interval',
          '0.2',
          '--db',
          t.url,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COMEBACK_LOG_LEVEL: 'warn' } },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      try {
        const address = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            const m = /at (http:\/\/[\d.:]+)\//.exec(out);
            if (m) resolve(m[1]!);
          });
          child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
        });
        const answered = await fetch(`${address}/s/${link.token}`, { method: 'POST', headers: form, body: 'score=4' });
        assert.equal(answered.status, 200);
        const deadline = Date.now() + 20_000;
        while (hook.got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.equal(hook.got.length, 1, stderr);
        const body = JSON.parse(hook.got[0]!.body);
        assert.equal(body.type, 'NPS Detractor');
        assert.equal(body.score, 4);
        assert.equal(body.customer.email, 'eve@example.com');
        assert.ok(signatureValid(linkSecret, hook.got[0]!));
      } finally {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
        await t.drop();
        hook.server.close();
      }
    });
  });
}

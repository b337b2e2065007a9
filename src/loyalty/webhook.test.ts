import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Redemption } from './redemption.queries.js';
import {
  fetchSender,
  redemptionWebhook,
  SIGNATURE_HEADER,
  sendRedemptionWebhook,
  signBody,
  verifySignature,
} from './webhook.js';

const SECRET = 'store-shared-secret';
const NOW = Date.UTC(2025, 5, 1);
const redemption: Redemption = {
  code: 'CB-ABCDEFGH23',
  customerId: 42,
  reward: {
    key: 'five-off',
    name: '£5 off',
    type: 'fixed_amount',
    cost: 500,
    amountMinor: 500,
    minOrderMinor: 2500,
    validDays: 30,
  },
  points: 500,
  balance: 120,
  minOrderMinor: 2500,
  currency: 'GBP',
  issuedAt: NOW,
  expiresAt: NOW + 30 * 86_400_000,
  created: true,
};

describe('the signed redemption webhook', () => {
  let server: Server;
  let url: string;
  const received: Array<{ body: string; valid: boolean }> = [];
  before(async () => {
    // A store's receiver: it checks the signature over the raw body and refuses anything unsigned.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
        const valid = verifySignature(body, SECRET, typeof header === 'string' ? header : undefined);
        received.push({ body, valid });
        res.statusCode = valid ? 204 : 401;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/loyalty`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a real HTTP receiver accepts the signed payload and tells the store what code to create', async () => {
    const result = await sendRedemptionWebhook(fetchSender(), url, redemption, { secret: SECRET, now: NOW });
    assert.deepEqual(result, { ok: true, status: 204 });
    const last = received.at(-1)!;
    assert.ok(last.valid);
    const payload = JSON.parse(last.body);
    assert.equal(payload.type, 'loyalty.redemption.created');
    assert.equal(payload.data.code, 'CB-ABCDEFGH23');
    assert.equal(payload.data.minOrderMinor, 2500);
    assert.equal(payload.data.singleUse, true);
    assert.equal(payload.data.reward.amountMinor, 500);
  });

  test('a wrong secret is refused by the receiver and reported, not thrown', async () => {
    const result = await sendRedemptionWebhook(fetchSender(), url, redemption, { secret: 'wrong', now: NOW });
    assert.deepEqual(result, { ok: false, status: 401 });
    assert.equal(received.at(-1)!.valid, false);
  });

  test('signatures are HMAC-SHA256 over the exact body', () => {
    const { body, headers } = redemptionWebhook(redemption, { secret: SECRET, now: NOW });
    assert.match(headers[SIGNATURE_HEADER]!, /^sha256=[0-9a-f]{64}$/);
    assert.equal(headers[SIGNATURE_HEADER], signBody(body, SECRET));
    assert.ok(!verifySignature(`${body} `, SECRET, headers[SIGNATURE_HEADER]));
    assert.ok(!verifySignature(body, SECRET, undefined));
  });
});

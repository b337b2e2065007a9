import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LedgerEntry, type MemberStatus, memberHistory } from './members.queries.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

const entry = (id: number, at: string, amount: number, kind: string): LedgerEntry => ({
  id,
  amount,
  kind,
  reason: kind,
  source: 'test',
  rule: '',
  bucket: 'available',
  availableAt: day(at),
  occurredAt: day(at),
  createdAt: day(at),
  programVersion: 1,
  orderId: null,
  orderNumber: null,
});

test("a member's history puts the due expiries among the ledger's entries, newest first", () => {
  // The ledger's entries come newest first (by id); two expiries are due but not booked: one between
  // the two earnings, one at the instant of the redemption (it comes first: the latest to happen).
  const status = {
    entries: [
      entry(3, '2026-03-01', -100, 'redeem'),
      entry(2, '2026-02-01', 300, 'earn'),
      entry(1, '2026-01-01', 500, 'earn'),
    ],
    dueExpiries: [
      { points: 40, occurredAt: day('2026-03-01'), reason: 'expired at the instant of the redemption' },
      { points: 60, occurredAt: day('2026-01-15'), reason: 'points available since 2025-01-15 expired' },
    ],
  } as unknown as MemberStatus;
  assert.deepEqual(
    memberHistory(status).map((h) => [
      new Date(h.at).toISOString().slice(0, 10),
      h.points,
      h.due ? 'due' : h.entry.kind,
    ]),
    [
      ['2026-03-01', -40, 'due'],
      ['2026-03-01', -100, 'redeem'],
      ['2026-02-01', 300, 'earn'],
      ['2026-01-15', -60, 'due'],
      ['2026-01-01', 500, 'earn'],
    ],
  );
  assert.deepEqual(memberHistory({ entries: [], dueExpiries: [] } as unknown as MemberStatus), []);
});

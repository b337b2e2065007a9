import type { Command } from 'commander';
import { messageLinkSecret } from '../../api/keys.queries.js';
import { CONSENT_CHANNELS, reconfirmConsents, recordConsent } from '../../campaigns/index.js';
import { ComebackError } from '../../errors.js';
import { openStore } from '../../store/index.js';
import { resolveCustomerRef } from '../customer-ref.js';
import { formatTable, printJson } from '../io.js';
import { type CommandContext, dbOption } from '../shared.js';

/** `comeback consent`: record a consent by hand, and the two-yearly re-confirmation (Korean rules). */
export function registerConsent(program: Command, ctx: CommandContext): void {
  const consent = program
    .command('consent')
    .description('marketing consent: record a change, re-confirm every two years (Korean rules)');
  dbOption(
    consent
      .command('reconfirm')
      .description(
        'tell every Korean recipient whose consent is 2, 4 … years old the sender, the date of consent and how to withdraw (queued in the outbox; the worker also does it)',
      )
      .option('--json', 'print JSON'),
  ).action(async (flags: { db?: string; json?: boolean }) => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const told = await reconfirmConsents(store.db, { now: ctx.now(), linkSecret: await messageLinkSecret(store.db) });
      if (flags.json) {
        printJson(ctx.io, {
          told: told.map((t) => ({
            ...t,
            consentedAt: new Date(t.consentedAt).toISOString(),
            dueAt: new Date(t.dueAt).toISOString(),
          })),
        });
        return;
      }
      if (told.length === 0) {
        ctx.io.out.write('No consent is due for re-confirmation.\n');
        return;
      }
      ctx.io.out.write(
        formatTable([
          ['customer', 'consent', 'given on', 'due on', 'to', 'status'],
          ...told.map((t) => [
            String(t.customerId),
            t.channel,
            new Date(t.consentedAt).toISOString().slice(0, 10),
            new Date(t.dueAt).toISOString().slice(0, 10),
            t.to ?? '',
            t.status,
          ]),
        ]),
      );
      ctx.io.out.write(`${told.filter((t) => t.status === 'queued').length} notice(s) queued in the outbox.\n`);
    } finally {
      await store.close();
    }
  });
  dbOption(
    consent
      .command('set <customer> <channel> <granted>')
      .description(
        `record a consent change: channel ${CONSENT_CHANNELS.join(', ')} (ad_night: 21:00–08:00 in Korea); granted yes or no`,
      ),
  ).action(async (customer: string, channel: string, granted: string, flags: { db?: string }) => {
    const known = CONSENT_CHANNELS.find((c) => c === channel);
    if (!known) throw new ComebackError('usage', `channel ${channel}: choose one of ${CONSENT_CHANNELS.join(', ')}`);
    if (granted !== 'yes' && granted !== 'no') throw new ComebackError('usage', `granted ${granted}: yes or no`);
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const id = await resolveCustomerRef(store.db, customer);
      const changed = await recordConsent(
        store.db,
        { customerId: id, channel: known, granted: granted === 'yes', source: 'cli' },
        ctx.now(),
      );
      ctx.io.out.write(changed ? `customer ${id}: ${channel} consent ${granted}\n` : `customer ${id}: unchanged\n`);
    } finally {
      await store.close();
    }
  });
}

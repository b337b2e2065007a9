import type { Command } from 'commander';
import { createApiKey, isScope, listApiKeys, revokeApiKey } from '../../api/keys.queries.js';
import { ComebackError } from '../../errors.js';
import { openStore } from '../../store/index.js';
import { formatTable, printJson } from '../io.js';
import { type CommandContext, dbOption } from '../shared.js';

/** `comeback keys create|list|revoke`: API keys, stored only as a hash and shown once. */
export function registerKeys(program: Command, ctx: CommandContext): void {
  const keys = program.command('keys').description('create, list and revoke API keys');

  dbOption(
    keys
      .command('create')
      .description('create an API key (printed once; only its hash is stored)')
      .requiredOption(
        '--scope <scope>',
        'publishable (storefront pages: events and the signed-in member only), read, write (orders and events) or admin (keys and everything)',
      )
      .option(
        '--origin <origin...>',
        'publishable keys: a storefront origin it is used from, e.g. https://shop.example (repeatable)',
      )
      .option('--name <name>', 'a label to recognise the key by')
      .option('--json', 'print JSON'),
  ).action(async (flags: { scope: string; origin?: string[]; name?: string; db?: string; json?: boolean }) => {
    const scope = flags.scope;
    if (!isScope(scope)) throw new ComebackError('usage', `--scope ${scope}: use publishable, read, write or admin`);
    if (scope === 'publishable' && !flags.origin?.length) {
      throw new ComebackError('usage', '--scope publishable needs --origin https://your-shop.example');
    }
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const { key, apiKey, memberSecret } = await createApiKey(store.db, {
        scope,
        name: flags.name,
        now: ctx.now(),
        origins: flags.origin,
      });
      if (flags.json) printJson(ctx.io, { key, ...apiKey, ...(memberSecret ? { memberSecret } : {}) });
      else {
        ctx.io.out.write(`${key}\n`);
        if (memberSecret) ctx.io.out.write(`member secret: ${memberSecret}\n`);
        ctx.io.err.write(
          memberSecret
            ? `Created publishable key ${apiKey.id} "${apiKey.name}" for ${apiKey.origins.join(', ')}. The key goes in the page; ` +
                "the member secret stays on the store's server (it signs the signed-in customer's id) and is not shown again.\n"
            : `Created ${apiKey.scope} key ${apiKey.id} "${apiKey.name}". Store it now: it is not shown again.\n`,
        );
      }
    } finally {
      await store.close();
    }
  });

  dbOption(
    keys.command('list').description('list API keys (never their secrets)').option('--json', 'print JSON'),
  ).action(async (flags: { db?: string; json?: boolean }) => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const list = await listApiKeys(store.db);
      if (flags.json) {
        printJson(ctx.io, list);
        return;
      }
      const when = (ms: number | null) =>
        ms === null ? '–' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
      ctx.io.out.write(
        `${formatTable([
          ['id', 'name', 'key', 'scope', 'origins', 'created', 'last used', 'revoked'],
          ...list.map((k) => [
            k.id,
            k.name,
            `${k.prefix}…`,
            k.scope,
            k.origins.join(' ') || '–',
            when(k.createdAt),
            when(k.lastUsedAt),
            when(k.revokedAt),
          ]),
        ])}\n`,
      );
    } finally {
      await store.close();
    }
  });

  dbOption(
    keys.command('revoke').description('revoke an API key').argument('<id>', 'the key id (see keys list)'),
  ).action(async (id: string, flags: { db?: string }) => {
    if (!/^\d+$/.test(id)) throw new ComebackError('usage', `keys revoke ${id}: the id is a number (see keys list)`);
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const key = await revokeApiKey(store.db, Number(id), ctx.now());
      ctx.io.out.write(`Revoked key ${key.id} "${key.name}" (${key.prefix}…).\n`);
    } finally {
      await store.close();
    }
  });
}

import type { Command } from 'commander';
import { upsertAdminUser } from '../../api/keys.queries.js';
import { listSessions, revokeSession } from '../../api/session.js';
import { ComebackError } from '../../errors.js';
import { openStore } from '../../store/index.js';
import { safeText } from '../io.js';
import { type CommandContext, dbOption } from '../shared.js';

/** `comeback admin create USER`: a local account that signs in to the dashboard. */
export function registerAdmin(program: Command, ctx: CommandContext): void {
  const admin = program.command('admin').description('local admin accounts for the dashboard');
  dbOption(
    admin
      .command('create')
      .description('create a dashboard admin, or set a new password for an existing one')
      .argument('<user>', 'user name')
      .option('--password <password>', 'the password (default: the first line of stdin)'),
  ).action(async (user: string, flags: { password?: string; db?: string }) => {
    const password = flags.password ?? (await firstLineOfStdin());
    if (!password) throw new ComebackError('usage', 'give the password with --password or on stdin');
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const result = await upsertAdminUser(store.db, { username: user, password, now: ctx.now() });
      ctx.io.out.write(
        `${result.created ? 'Created' : 'Updated the password of (and signed out)'} admin ${result.username}.\n`,
      );
    } finally {
      await store.close();
    }
  });
  dbOption(
    admin
      .command('sessions')
      .description('list the live dashboard sessions, or end one with --revoke ID')
      .option('--revoke <id>', 'end this session (its cookie stops working at once)'),
  ).action(async (flags: { revoke?: string; db?: string }) => {
    const revokeId = flags.revoke === undefined ? undefined : Number(flags.revoke);
    if (revokeId !== undefined && !(Number.isSafeInteger(revokeId) && revokeId > 0)) {
      throw new ComebackError('usage', `--revoke: "${flags.revoke}" is not a session id`);
    }
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      if (revokeId !== undefined) {
        const ended = await revokeSession(store.db, revokeId, ctx.now());
        ctx.io.out.write(`Ended session ${ended.id} (${safeText(ended.name)}).\n`);
        return;
      }
      const sessions = await listSessions(store.db, ctx.now());
      if (sessions.length === 0) ctx.io.out.write('No live sessions.\n');
      for (const s of sessions) {
        const opened = new Date(s.createdAt).toISOString().slice(0, 16).replace('T', ' ');
        const via = s.apiKeyId === null ? 'password' : `API key ${s.apiKeyId}`;
        ctx.io.out.write(
          `${s.id}\t${safeText(s.name)}\t${s.scope}\t${via}\topened ${opened} UTC\tfrom ${safeText(s.address ?? '?')}\n`,
        );
      }
    } finally {
      await store.close();
    }
  });
}

// Stdin is read here, at the edge, so that a password never has to appear in the shell history.
async function firstLineOfStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  const line = text.split(/\r?\n/)[0]?.trim();
  return line === '' ? undefined : line;
}

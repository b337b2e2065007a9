import type { Command } from 'commander';
import { upsertAdminUser } from '../../api/keys.queries.js';
import { ComebackError } from '../../errors.js';
import { openStore } from '../../store/index.js';
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
      ctx.io.out.write(`${result.created ? 'Created' : 'Updated the password of'} admin ${result.username}.\n`);
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

import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { importFile } from '../../ingest/index.js';
import { samplePath } from '../../shared/paths.js';
import { openStore, storeStats } from '../../store/index.js';
import { formatCount } from '../io.js';
import type { CommandContext } from '../shared.js';

export const DEMO_SAMPLE = samplePath('online-retail', 'online-retail-sample.csv.gz');

/** `comeback demo`: the bundled Online Retail sample in a fresh SQLite file. */
export function registerDemo(program: Command, ctx: CommandContext): void {
  program
    .command('demo')
    .description('load the bundled real sample (UCI Online Retail, 440 customers) into a fresh embedded database')
    .option('--file <path>', 'the SQLite file to (re)create', 'comeback-demo.db')
    .action(async (flags: { file: string }) => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${flags.file}${suffix}`, { force: true });
      const store = await openStore(`sqlite:${flags.file}`);
      try {
        ctx.io.err.write(`Loading ${DEMO_SAMPLE} into ${flags.file} …\n`);
        const summary = await importFile(store.db, DEMO_SAMPLE, { format: 'online-retail', now: ctx.now() });
        const stats = await storeStats(store.db);
        const revenue = stats.revenue.map((r) => `${r.revenue.toLocaleString('en-GB')} ${r.currency}`).join(', ');
        ctx.io.out.write(
          `Loaded ${formatCount(summary.orders)} orders (${formatCount(summary.lines)} lines, ${formatCount(summary.refunds)} cancellations) ` +
            `of ${formatCount(stats.customers)} customers; net revenue ${revenue}.\n` +
            `Try: comeback stats --db sqlite:${flags.file}\n`,
        );
      } finally {
        await store.close();
      }
    });
}

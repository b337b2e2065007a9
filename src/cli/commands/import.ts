import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { defaultAsOf } from '../../analytics/index.js';
import { ComebackError } from '../../errors.js';
import {
  CSV_FIELDS,
  FORMATS,
  type FormatName,
  type ImportSummary,
  importFile,
  isFormatName,
} from '../../ingest/index.js';
import { refreshSegments, segmentsInUse } from '../../segments/index.js';
import { formatMoney } from '../../shared/money.js';
import { openStore, parseDbUrl } from '../../store/index.js';
import { checkInputFile, describeGzipFailure, formatsThatFit } from '../input-file.js';
import { asOfText, formatCount, type Io, printJson, progressBar } from '../io.js';
import { type CommandContext, dbOption, storeTimeZone } from '../shared.js';

interface ImportFlags {
  format: string;
  db?: string;
  tz?: string;
  currency?: string;
  encoding?: string;
  password?: string;
  map: string[];
  delimiter?: string;
  decimalComma?: boolean;
  decimalPoint?: boolean;
  skipInvalid?: boolean;
  json?: boolean;
}

/** `comeback import FILE… --format F`: each file in its own transaction. */
export function registerImport(program: Command, ctx: CommandContext): void {
  dbOption(
    program
      .command('import')
      .description('import order exports into the store (each file whole or not at all; re-imports change nothing)')
      .argument('<files...>', 'files to import (.gz is read as it is)')
      .requiredOption('-f, --format <format>', `one of ${Object.keys(FORMATS).join(', ')}`)
      .option(
        '--tz <zone>',
        'IANA time zone of timestamps written without an offset (default: Asia/Seoul for cafe24 and smartstore, else UTC)',
      )
      .option('--currency <code>', 'ISO 4217 currency for formats that do not state one')
      .option(
        '--encoding <name>',
        'file encoding: utf8 (default), latin1, windows-1252, cp949, … (cafe24/smartstore: UTF-8 else CP949)',
      )
      .option('--password <password>', 'password of an encrypted .xlsx (default: COMEBACK_XLSX_PASSWORD)')
      .option('--map <column=field>', `generic csv: which column holds a field (${CSV_FIELDS.join(', ')})`, collect, [])
      .option('--delimiter <char>', 'CSV field delimiter: , ; | or tab (default: detected from the header line)')
      .option(
        '--decimal-comma',
        'generic csv: amounts are written 1.234,56 (default: proved by the file, ambiguous refused)',
      )
      .option('--decimal-point', 'generic csv: amounts are written 1,234.56')
      .option('--skip-invalid', 'import the good rows and write the bad ones to FILE.rejects.csv')
      .option('--json', 'print the summary as JSON'),
  ).action(async (files: string[], flags: ImportFlags) => {
    if (!isFormatName(flags.format)) {
      throw new ComebackError('usage', `--format ${flags.format}: choose one of ${Object.keys(FORMATS).join(', ')}`);
    }
    const format = flags.format;
    const map = parseMap(flags.map);
    const password = flags.password ?? (ctx.env.COMEBACK_XLSX_PASSWORD || undefined);
    if (flags.decimalComma && flags.decimalPoint) {
      throw new ComebackError('usage', '--decimal-comma and --decimal-point: choose one');
    }
    const decimal = flags.decimalComma ? 'comma' : flags.decimalPoint ? 'point' : 'auto';
    for (const file of files) checkInputFile(file);
    const { dbUrl } = ctx.config(flags);
    const target = parseDbUrl(dbUrl);
    // A new SQLite file that ends up holding nothing (the first file failed) is removed again.
    const created = target.dialect === 'sqlite' && target.target !== ':memory:' && !existsSync(target.target);
    const store = await openStore(dbUrl);
    const summaries: ImportSummary[] = [];
    let closed = false;
    try {
      for (const file of files) {
        const bar = progressBar(ctx.io, basename(file));
        try {
          summaries.push(
            await importFile(store.db, file, {
              format,
              now: ctx.now(),
              timeZone: flags.tz,
              currency: flags.currency,
              encoding: flags.encoding,
              password,
              map,
              delimiter: flags.delimiter,
              decimal,
              skipInvalid: flags.skipInvalid,
              onProgress: (read, total) => bar.update(read, total),
            }),
          );
        } catch (error) {
          throw (await explainImportFailure(file, format, flags.encoding, password, error)) ?? error;
        } finally {
          bar.stop();
        }
      }
      // Segment membership follows new orders: refresh it when the store uses segments.
      if (await segmentsInUse(store.db)) {
        const timeZone = await storeTimeZone(store.db);
        const asOf = (await defaultAsOf(store.db, undefined, timeZone)) ?? ctx.now();
        const refreshed = await refreshSegments(store.db, { asOf });
        ctx.io.err.write(
          `segments refreshed as of ${asOfText(asOf, timeZone)}: ${formatCount(refreshed.changes.total)} changes\n`,
        );
      }
    } catch (error) {
      closed = true;
      await store.close();
      if (created && summaries.length === 0) {
        for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${target.target}${suffix}`, { force: true });
      }
      throw error;
    } finally {
      if (!closed) await store.close();
    }
    if (flags.json) printJson(ctx.io, summaries);
    else for (const summary of summaries) printSummary(ctx.io, summary);
  });
}

/** A clearer message for a failed import: a gzip error, or a header that fits another format. */
async function explainImportFailure(
  file: string,
  format: FormatName,
  encoding: string | undefined,
  password: string | undefined,
  error: unknown,
): Promise<ComebackError | undefined> {
  const gzip = describeGzipFailure(file, error);
  if (gzip) return gzip;
  if (!(error instanceof ComebackError) || error.location?.field !== 'header') return undefined;
  const fits = await formatsThatFit(file, { encoding, password, except: format });
  if (fits.length === 0) return undefined;
  return new ComebackError(
    'bad_input',
    `${error.message}: the file is not in the ${format} format; its header fits ${fits.map((f) => `--format ${f}`).join(' or ')}`,
    { location: error.location, cause: error },
  );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseMap(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new ComebackError('usage', `--map ${pair}: write it as column=field`);
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return map;
}

function printSummary(io: Io, s: ImportSummary): void {
  const parts = [
    `${formatCount(s.rows)} rows`,
    `${formatCount(s.orders)} orders`,
    `${formatCount(s.lines)} lines`,
    `${formatCount(s.refunds)} new refund records`,
    `${formatCount(s.customersCreated)} new customers`,
    `${formatCount(s.productsCreated)} new products`,
  ];
  if (s.catalogue)
    parts.splice(
      1,
      5,
      `${formatCount(s.catalogue.products)} products (${formatCount(s.catalogue.created)} new, ${formatCount(s.catalogue.changed)} changed, ${formatCount(s.catalogue.prices)} prices recorded)`,
    );
  io.out.write(`${s.file} (${s.format}): ${parts.join(', ')}\n`);
  for (const [reason, count] of Object.entries(s.skipReasons))
    io.out.write(`  skipped ${formatCount(count)}: ${reason}\n`);
  if (s.rejected > 0) io.out.write(`  rejected ${formatCount(s.rejected)} rows, written to ${s.rejectsFile}\n`);
  if (s.resumed) io.out.write('  an earlier import of this file had not finished; this one completed it\n');
  for (const r of s.reconciliation) {
    const money = (minor: number) => formatMoney(minor, r.currency);
    io.out.write(
      `  reconciliation ${r.currency}: file net ${money(r.fileNetMinor)}, stored net ${money(r.storedNetMinor)}\n`,
    );
    for (const e of r.explained)
      io.out.write(`    ${money(e.minor).padStart(16)}  ${formatCount(e.count)} ${e.reason}\n`);
    io.out.write(
      r.unexplainedMinor === 0
        ? '    every difference is explained\n'
        : `    ${money(r.unexplainedMinor).padStart(16)}  UNEXPLAINED: the store and the file disagree\n`,
    );
    if (r.refundedOnOrders.count > 0)
      io.out.write(
        `    refunds stated on the orders (in both nets): ${formatCount(r.refundedOnOrders.count)} orders, ${money(r.refundedOnOrders.minor)}\n`,
      );
    const notSales = r.notSales.filter((n) => n.minor !== 0);
    if (notSales.length > 0) {
      const total = notSales.reduce((sum, n) => sum + n.minor, 0);
      io.out.write(
        `    of the stored net, ${money(total)} is in orders that are not sales (kept, left out of revenue): ` +
          `${notSales.map((n) => `${formatCount(n.count)} ${n.status} ${money(n.minor)}`).join(', ')}\n`,
      );
    }
  }
}

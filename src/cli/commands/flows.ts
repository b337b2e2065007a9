import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { messageLinkSecret, signingKey } from '../../api/keys.queries.js';
import {
  type BacktestReport,
  backtestFlow,
  builtinFlows,
  CHANNELS,
  type Channel,
  completeOutreach,
  createCampaign,
  type FlowDefinition,
  type FlowReport,
  flowReport,
  helpdeskSender,
  httpSender,
  installBuiltins,
  kakaoSender,
  latestTemplate,
  listFlows,
  listOutreach,
  loadFlow,
  type MessageContext,
  messagingSettings,
  previewBlocks,
  renderMessage,
  resendUncertain,
  type Sender,
  saveFlow,
  saveMessagingSettings,
  sendCampaign,
  setFlowEnabled,
  smtpSender,
  validateFlow,
  workerTick,
} from '../../campaigns/index.js';
import { ComebackError } from '../../errors.js';
import { dayInZone, formatWithOffset, zoneOffsetAt } from '../../shared/dates.js';
import { currencyExponent, formatMoney } from '../../shared/money.js';
import { type Db, openStore } from '../../store/index.js';
import { resolveCustomerRef } from '../customer-ref.js';
import { asOfText, formatTable, printJson } from '../io.js';
import {
  AS_OF_HELP,
  type CommandContext,
  dateFlag,
  dbOption,
  endDateFlag,
  resolveAsOf,
  storeTimeZone,
} from '../shared.js';

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const interval = (i: { estimate: number; low: number | null; high: number | null } | null, f: (v: number) => string) =>
  i === null ? '–' : `${f(i.estimate)} [${i.low === null ? '?' : f(i.low)}, ${i.high === null ? '?' : f(i.high)}]`;

/**
 * The action of `flows report <flow>` and `campaigns report <key>` (a campaign is a flow): the report
 * as of the later of now and the end of `--as-of`, human or `--json`.
 */
function reportAction(ctx: CommandContext) {
  return async (key: string, flags: { db?: string; asOf?: string; json?: boolean }): Promise<void> => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const { asOf, timeZone } = await resolveAsOf(ctx, store.db, flags.asOf);
      const report = await flowReport(store.db, key, Math.max(asOf, ctx.now()));
      if (flags.json) printJson(ctx.io, report);
      else printReport(ctx, report, timeZone);
    } finally {
      await store.close();
    }
  };
}

/** The human face of a flow report. */
function printReport(ctx: CommandContext, r: FlowReport, timeZone: string): void {
  const out = ctx.io.out;
  const money = (minor: number) => (r.currency ? `${(minor / 100).toFixed(2)} ${r.currency}` : String(minor));
  out.write(`${r.name} (${r.key}) as of ${asOfText(r.asOf, timeZone)}, attribution ${r.attributionDays} days\n\n`);
  out.write(
    `${formatTable([
      ['', 'treated', 'held out'],
      ['entrants', r.entrants.treatment, r.entrants.control],
      ['converted', r.lift.treatment.converters, r.lift.control.converters],
      ['conversion rate', pct(r.lift.treatment.conversionRate), pct(r.lift.control.conversionRate)],
      ['orders', r.lift.treatment.orders, r.lift.control.orders],
      [
        'revenue per entrant',
        money(r.lift.treatment.revenuePerEntrantMinor ?? 0),
        money(r.lift.control.revenuePerEntrantMinor ?? 0),
      ],
    ])}\n\n`,
  );
  out.write(
    `lift in conversion   ${interval(r.lift.conversionLift, (v) => `${(v * 100).toFixed(1)} pt`)} (95 % interval)\n`,
  );
  out.write(`incremental orders   ${interval(r.lift.incrementalOrders, (v) => v.toFixed(1))}\n`);
  out.write(
    `incremental revenue  ${interval(r.lift.incrementalRevenueMinor, money)}, coupons cost ${money(r.lift.couponCostMinor)}\n`,
  );
  const verdict = {
    positive: 'The flow brings customers back: the interval is above zero.',
    negative: 'The flow does worse than sending nothing: the interval is below zero.',
    inconclusive: `Not conclusive yet: the interval spans zero.${
      r.lift.moreEntrantsNeeded !== null ? ` About ${r.lift.moreEntrantsNeeded} more entrants would settle it.` : ''
    }`,
    no_data: 'No result: one of the groups has no entrants yet.',
  }[r.lift.verdict];
  out.write(`\n${verdict}\n\n`);
  out.write(
    `${formatTable([
      ['step', 'sent', 'queued', 'skipped', 'held out', 'opened', 'clicked', 'unsubscribed', 'lift (95 %)'],
      ...r.steps.map((s) => [
        s.stepId,
        s.treated.sent,
        s.treated.queued,
        Object.entries(s.treated.skipped)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ') || '0',
        s.heldOut,
        s.opened,
        s.clicked,
        s.unsubscribed,
        interval(s.lift.conversionLift, (v) => `${(v * 100).toFixed(1)} pt`),
      ]),
    ])}\n`,
  );
  out.write(`\ncoupons issued ${r.coupons.issued}, used ${r.coupons.used} (secondary attribution, not the lift)\n`);
  if (r.outreach.created > 0) {
    out.write(`outreach tasks ${r.outreach.created}: ${r.outreach.done} done, ${r.outreach.open} open\n`);
  }
}

/** Who marks an outreach task done from the command line, unless `--by` says: the login name. */
function loginName(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}

/** A flow file (`*.json`, validated), or undefined when `ref` names a flow by key. */
async function backtestDefinition(ref: string): Promise<FlowDefinition | undefined> {
  if (!ref.endsWith('.json')) return undefined;
  let input: unknown;
  try {
    input = JSON.parse(await readFile(ref, 'utf8'));
  } catch (error) {
    throw new ComebackError('bad_input', `${ref}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = validateFlow(input);
  if (!result.ok) {
    throw new ComebackError('bad_input', result.problems.map((p) => `${ref}: ${p.path}: ${p.message}`).join('\n'));
  }
  return result.flow;
}

/** The store's current version of a flow, else the built-in one of that key (without installing it). */
async function savedOrBuiltin(db: Db, key: string): Promise<FlowDefinition> {
  try {
    return (await loadFlow(db, key)).definition;
  } catch (error) {
    const builtin = builtinFlows().find((f) => f.key === key);
    if (builtin && error instanceof ComebackError && error.kind === 'not_found') return builtin;
    throw error;
  }
}

/** The human face of a backtest. */
function printBacktest(ctx: CommandContext, r: BacktestReport, timeZone: string): void {
  const out = ctx.io.out;
  // Days and times of the store's zone, as the dates were typed.
  const at = (ms: number) => formatWithOffset(ms, zoneOffsetAt(ms, timeZone)).slice(0, 16).replace('T', ' ');
  out.write(
    `Backtest of ${r.key} from ${dayInZone(r.from, timeZone)} to ${dayInZone(r.to - 1, timeZone)} (nothing was sent or written)\n`,
  );
  for (const note of r.notes) out.write(`  note: ${note}\n`);
  const t = r.totals;
  const skipped = Object.entries(t.skipped)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  out.write(
    `\n${t.entrants} entrants (${t.treatment} treated, ${t.control} held out), ${t.notEntered} occurrences already in the flow or not allowed to re-enter\n`,
  );
  out.write(
    `messages: ${t.wouldSend} would be sent (${t.deferred} after quiet hours), ${t.heldOut} held out, skipped: ${skipped || 'none'}\n\n`,
  );
  if (r.entrants.length === 0) return;
  out.write(
    `${formatTable([
      ['customer', 'entered', 'arm', 'end', 'messages'],
      ...r.entrants.map((e) => [
        e.externalId ?? String(e.customerId),
        at(e.enteredAt),
        e.arm,
        e.end.status === 'exited' ? `exited: ${e.end.reason}` : e.end.status,
        e.messages
          .map(
            (m) =>
              `${m.stepId} ${m.outcome === 'would_send' ? at(m.at) : m.outcome === 'held_out' ? 'held out' : `skipped (${m.reason})`}`,
          )
          .join('; ') || '–',
      ]),
    ])}\n`,
  );
}

/** `comeback flows …`, `comeback worker` and `comeback messages preview`. */
export function registerFlows(program: Command, ctx: CommandContext): void {
  const flows = program
    .command('flows')
    .description('triggered flows: win-back, abandonment, welcome … with hold-outs');

  dbOption(flows.command('list').description('every flow, on or off (installs the built-in ones the first time)'))
    .option('--json', 'print JSON')
    .action(async (flags: { db?: string; json?: boolean }) => {
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        await installBuiltins(store.db, ctx.now());
        const all = await listFlows(store.db);
        if (flags.json) return printJson(ctx.io, all);
        ctx.io.out.write(
          `${formatTable([
            ['flow', 'name', 'trigger', 'version', 'state'],
            ...all.map((f) => [f.key, f.name, f.trigger, String(f.version), f.enabled ? 'on' : 'off']),
          ])}\n`,
        );
      } finally {
        await store.close();
      }
    });

  dbOption(flows.command('show <flow>').description('a flow’s current definition as JSON')).action(
    async (key: string, flags: { db?: string }) => {
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        await installBuiltins(store.db, ctx.now());
        const flow = await loadFlow(store.db, key);
        // The definition alone, so that it can be edited and saved back; the state goes to stderr.
        ctx.io.err.write(`${flow.key}: version ${flow.version}, ${flow.enabled ? 'on' : 'off'}\n`);
        printJson(ctx.io, flow.definition);
      } finally {
        await store.close();
      }
    },
  );

  dbOption(flows.command('save <file>').description('save a flow definition (JSON) as a new version')).action(
    async (file: string, flags: { db?: string }) => {
      let input: unknown;
      try {
        input = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new ComebackError('bad_input', `${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const result = validateFlow(input);
      if (!result.ok) {
        throw new ComebackError('bad_input', result.problems.map((p) => `${file}: ${p.path}: ${p.message}`).join('\n'));
      }
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        const saved = await saveFlow(store.db, result.flow, ctx.now());
        ctx.io.out.write(
          saved.created
            ? `saved ${saved.flow.key} version ${saved.flow.version}${saved.flow.enabled ? '' : ' (off: comeback flows enable to turn it on)'}\n`
            : `${saved.flow.key} is unchanged (version ${saved.flow.version})\n`,
        );
      } finally {
        await store.close();
      }
    },
  );

  for (const [verb, on] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    dbOption(flows.command(`${verb} <flow>`).description(on ? 'turn a flow on from now' : 'turn a flow off')).action(
      async (key: string, flags: { db?: string }) => {
        const store = await openStore(ctx.config(flags).dbUrl);
        try {
          await installBuiltins(store.db, ctx.now());
          const changed = await setFlowEnabled(store.db, key, on, ctx.now());
          ctx.io.out.write(`${key} is ${on ? 'on' : 'off'}${changed ? '' : ' (it already was)'}\n`);
        } finally {
          await store.close();
        }
      },
    );
  }

  dbOption(
    flows
      .command('report <flow>')
      .description('entrants, sends and the lift against the hold-out group, with 95 % intervals')
      .option('--as-of <date>', 'count orders up to the end of this day (default: the store’s latest data)')
      .option('--json', 'print JSON'),
  ).action(reportAction(ctx));

  const outreach = dbOption(
    flows
      .command('outreach')
      .description(
        'the staff outreach queue: tasks flows made for a person (open by default); `outreach done <id>` closes one',
      )
      .option('--open', 'open tasks only (the default)')
      .option('--done', 'done tasks only')
      .option('--all', 'open and done tasks')
      .option('--json', 'print JSON'),
  ).action(async (flags: { db?: string; open?: boolean; done?: boolean; all?: boolean; json?: boolean }) => {
    const chosen = [flags.open, flags.done, flags.all].filter(Boolean).length;
    if (chosen > 1) throw new ComebackError('usage', '--open, --done and --all: choose one');
    const filter = flags.done ? 'done' : flags.all ? 'all' : 'open';
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const tasks = await listOutreach(store.db, filter, ctx.now());
      if (flags.json) return printJson(ctx.io, { filter, tasks });
      if (tasks.length === 0) {
        ctx.io.out.write(`no ${filter === 'all' ? '' : `${filter} `}outreach tasks\n`);
        return;
      }
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
      ctx.io.out.write(
        `${formatTable([
          ['id', 'customer', 'why', 'flow / step', 'since', 'orders', 'spent', 'predicted', 'last order', 'done'],
          ...tasks.map((t) => [
            String(t.id),
            [t.customer.name, t.customer.email ?? t.customer.phone ?? `#${t.customer.id}`].filter(Boolean).join(' '),
            t.why,
            `${t.flow.key} / ${t.stepId ?? ''}`,
            day(t.createdAt),
            String(t.value.orders),
            t.value.spent.map((s) => formatMoney(s.minor, s.currency)).join(' + ') || '–',
            t.value.clv
              ? formatMoney(
                  Math.round(t.value.clv.value * 10 ** currencyExponent(t.value.clv.currency)),
                  t.value.clv.currency,
                )
              : '–',
            t.lastOrder
              ? `${day(t.lastOrder.at).slice(0, 10)} ${formatMoney(t.lastOrder.totalMinor, t.lastOrder.currency)}`
              : 'none',
            t.done ? `${day(t.done.at)} by ${t.done.by}${t.done.note ? `: ${t.done.note}` : ''}` : 'open',
          ]),
        ])}\n`,
      );
    } finally {
      await store.close();
    }
  });
  dbOption(
    outreach
      .command('done <id>')
      .description('mark an outreach task done (again: nothing changes)')
      .option('--note <text>', 'what was done or said')
      .option('--by <name>', 'who did it (default: the login name)')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, flags: { db?: string; note?: string; by?: string; json?: boolean }) => {
    if (!/^[1-9][0-9]{0,15}$/.test(ref)) {
      throw new ComebackError('bad_input', `id: "${ref}" is not a task id (comeback flows outreach lists them)`);
    }
    const by = flags.by ?? loginName();
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const done = await completeOutreach(store.db, Number(ref), {
        by,
        ...(flags.note !== undefined ? { note: flags.note } : {}),
        now: ctx.now(),
      });
      if (flags.json) return printJson(ctx.io, done);
      ctx.io.out.write(
        done.alreadyDone
          ? `task ${done.id} was already done (${new Date(done.at).toISOString()} by ${done.by}): nothing changed\n`
          : `task ${done.id} done by ${done.by}\n`,
      );
    } finally {
      await store.close();
    }
  });

  dbOption(
    flows
      .command('backtest <flow>')
      .description(
        'run a flow over past data: who would have entered, when, and which messages they would have received (sends and writes nothing)',
      )
      .requiredOption('--from <date>', 'first day of the period, YYYY-MM-DD, included')
      .requiredOption('--to <date>', 'last day of the period, YYYY-MM-DD, included')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, flags: { db?: string; from: string; to: string; json?: boolean }) => {
    // Read in UTC first so that a bad date is refused before anything opens; re-read in the store's zone.
    dateFlag(flags.from, '--from');
    endDateFlag(flags.to, '--to');
    const definition = await backtestDefinition(ref);
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const timeZone = await storeTimeZone(store.db);
      const from = dateFlag(flags.from, '--from', timeZone)!;
      const to = endDateFlag(flags.to, '--to', timeZone)!;
      const flow = definition ?? (await savedOrBuiltin(store.db, ref));
      const report = await backtestFlow(store.db, flow, { from, to });
      if (flags.json) return printJson(ctx.io, report);
      printBacktest(ctx, report, timeZone);
    } finally {
      await store.close();
    }
  });

  dbOption(
    flows
      .command('settings')
      .description('show or change the store’s messaging settings (sender, zone, quiet hours, cap, public URL)')
      .option('--set <json>', 'a JSON object of settings to change, e.g. \'{"timeZone":"Europe/London"}\'')
      .option('--store-url <url>', 'the store’s public https address, linked from the customer’s pages')
      .option('--helpdesk-url <url>', 'where detractors and low CSAT answers are posted, signed ("" for nowhere)')
      .option('--signing-keys', 'show the keys for the SMS provider (receipts) and webhook receivers instead'),
  ).action(async (flags: SettingsFlags) => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const named: Record<string, unknown> = {};
      if (flags.storeUrl !== undefined) named.storeUrl = flags.storeUrl === '' ? null : flags.storeUrl;
      if (flags.helpdeskUrl !== undefined) named.helpdeskUrl = flags.helpdeskUrl === '' ? null : flags.helpdeskUrl;
      if (Object.keys(named).length > 0) await saveMessagingSettings(store.db, named);
      if (flags.set !== undefined) {
        let change: unknown;
        try {
          change = JSON.parse(flags.set);
        } catch {
          throw new ComebackError('usage', '--set: not JSON');
        }
        if (!change || typeof change !== 'object' || Array.isArray(change))
          throw new ComebackError('usage', '--set: a JSON object');
        await saveMessagingSettings(store.db, change as Record<string, unknown>);
      }
      if (flags.signingKeys) {
        // Derived from the link secret, which itself is never shown: it signs the customers' links.
        const secret = await messageLinkSecret(store.db);
        return printJson(ctx.io, {
          smsReceipts: signingKey(secret, 'sms-receipts'),
          webhooks: signingKey(secret, 'webhooks'),
          helpdesk: signingKey(secret, 'helpdesk'),
        });
      }
      printJson(ctx.io, await messagingSettings(store.db));
    } finally {
      await store.close();
    }
  });

  dbOption(
    program
      .command('worker')
      .description('enter customers into flows, move journeys on and deliver due messages from the outbox')
      .option('--smtp <url>', 'SMTP server for e-mail, smtp://user:pass@host:port (or COMEBACK_SMTP_URL)')
      .option('--sms-url <url>', 'SMS provider endpoint taking a JSON POST (or COMEBACK_SMS_URL)')
      .option('--sms-token <token>', 'bearer token for the SMS provider (or COMEBACK_SMS_TOKEN)')
      .option('--webhook-url <url>', 'endpoint for webhook steps (or COMEBACK_WEBHOOK_URL)')
      .option('--interval <seconds>', 'seconds between passes', '15')
      .option('--once', 'one pass, then exit')
      .option('--resend-uncertain', 'first put messages left uncertain by a crash back in the queue (same Message-ID)'),
  ).action(
    async (flags: {
      db?: string;
      smtp?: string;
      smsUrl?: string;
      smsToken?: string;
      webhookUrl?: string;
      interval: string;
      once?: boolean;
      resendUncertain?: boolean;
    }) => {
      const interval = Number(flags.interval);
      if (!(interval > 0)) throw new ComebackError('usage', `--interval ${flags.interval}: a number of seconds`);
      const store = await openStore(ctx.config(flags).dbUrl);
      const senders: Record<string, Sender> = {};
      const smtp = flags.smtp ?? ctx.env.COMEBACK_SMTP_URL;
      if (smtp) {
        let url: URL;
        try {
          url = new URL(smtp);
        } catch {
          throw new ComebackError('usage', `--smtp ${smtp}: write smtp://host:port`);
        }
        senders.email = smtpSender({
          host: url.hostname,
          port: Number(url.port || 25),
          secure: url.protocol === 'smtps:',
          ...(url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : {}),
          ignoreTLS: url.hostname === '127.0.0.1' || url.hostname === 'localhost',
        });
      }
      const smsUrl = flags.smsUrl ?? ctx.env.COMEBACK_SMS_URL;
      const smsToken = flags.smsToken ?? ctx.env.COMEBACK_SMS_TOKEN;
      if (smsUrl) senders.sms = httpSender({ url: smsUrl, ...(smsToken ? { bearer: smsToken } : {}), now: ctx.now });
      const webhookUrl = flags.webhookUrl ?? ctx.env.COMEBACK_WEBHOOK_URL;
      const kakao = (await messagingSettings(store.db)).kakao;
      if (kakao) {
        senders.kakao = kakaoSender({
          ...kakao,
          ...(ctx.env.COMEBACK_KAKAO_API_KEY ? { apiKey: ctx.env.COMEBACK_KAKAO_API_KEY } : {}),
          ...(ctx.env.COMEBACK_KAKAO_API_SECRET ? { apiSecret: ctx.env.COMEBACK_KAKAO_API_SECRET } : {}),
          now: ctx.now,
        });
      }
      try {
        const secret = await messageLinkSecret(store.db);
        if (webhookUrl)
          senders.webhook = httpSender({
            url: webhookUrl,
            signingSecret: signingKey(secret, 'webhooks'),
            now: ctx.now,
          });
        const helpdeskUrl = (await messagingSettings(store.db)).helpdeskUrl;
        if (helpdeskUrl)
          senders.helpdesk = helpdeskSender(helpdeskUrl, { now: ctx.now, signingKey: signingKey(secret, 'helpdesk') });
        if (Object.keys(senders).length === 0) {
          ctx.io.err.write('worker: no channel configured (--smtp, --sms-url, --webhook-url); messages stay queued\n');
        }
        if (flags.resendUncertain) {
          ctx.io.err.write(`worker: ${await resendUncertain(store.db, ctx.now())} uncertain message(s) queued again\n`);
        }
        let stop = false;
        const onSignal = () => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        while (!stop) {
          const t = await workerTick(store.db, { now: ctx.now, random: Math.random, linkSecret: secret, senders });
          ctx.io.err.write(
            `worker: entered ${t.enrolled.entered}, queued ${t.advanced.queued}, held out ${t.advanced.heldOut}, skipped ${t.advanced.skipped}, sent ${t.delivered.sent}, retried ${t.delivered.retried}, failed ${t.delivered.failed}${t.delivered.skipped || t.delivered.deferred ? `, stopped before sending ${t.delivered.skipped}, deferred before sending ${t.delivered.deferred}` : ''}${t.recovered.uncertain ? `, ${t.recovered.uncertain} uncertain` : ''}\n`,
          );
          if (flags.once) break;
          await new Promise((r) => setTimeout(r, interval * 1000));
        }
      } finally {
        for (const s of Object.values(senders)) await s.close?.();
        await store.close();
      }
    },
  );

  const campaigns = program
    .command('campaigns')
    .description('one-off messages to a saved segment, now or scheduled, with an A/B split and a hold-out');
  dbOption(
    campaigns
      .command('create <key>')
      .description('create a campaign (or save a change as a new version)')
      .requiredOption('--segment <name>', 'the saved segment that receives it (comeback segments save)')
      .requiredOption('--template <key>', 'the template (variant A with --template-b)')
      .option('--template-b <key>', 'a second template: an A/B split of subject or content')
      .option('--split <share>', 'share of the treated who get variant A (default 0.5)')
      .option('--channels <list>', 'channels, the customer’s preferred first: email,sms,kakao,webhook (default email)')
      .option('--holdout <share>', 'share held out as the control group (default 0.1)')
      .option('--attribution-days <n>', 'orders this many days after the send count (default 5)')
      .option(
        '--topic <topic>',
        'preference-centre topic: offers, new_products, rewards, surveys (opted-out customers are skipped)',
      )
      .option('--name <text>', 'a name for people'),
  ).action(
    async (
      key: string,
      flags: {
        db?: string;
        segment: string;
        template: string;
        templateB?: string;
        split?: string;
        channels?: string;
        holdout?: string;
        attributionDays?: string;
        topic?: string;
        name?: string;
      },
    ) => {
      const number = (text: string | undefined, flag: string) => {
        if (text === undefined) return undefined;
        const n = Number(text);
        if (text.trim() === '' || !Number.isFinite(n)) throw new ComebackError('usage', `${flag} ${text}: a number`);
        return n;
      };
      const channels = flags.channels?.split(',').map((c) => c.trim());
      for (const c of channels ?? []) {
        if (!(CHANNELS as readonly string[]).includes(c)) {
          throw new ComebackError('usage', `--channels ${flags.channels}: ${c} is not one of ${CHANNELS.join(', ')}`);
        }
      }
      const split = number(flags.split, '--split');
      const holdout = number(flags.holdout, '--holdout');
      const days = number(flags.attributionDays, '--attribution-days');
      const store = await openStore(ctx.config(flags).dbUrl);
      try {
        await installBuiltins(store.db, ctx.now());
        const saved = await createCampaign(
          store.db,
          {
            key,
            segment: flags.segment,
            templates: flags.templateB ? [flags.template, flags.templateB] : [flags.template],
            ...(flags.name ? { name: flags.name } : {}),
            ...(split !== undefined ? { split } : {}),
            ...(channels ? { channels: channels as Channel[] } : {}),
            ...(holdout !== undefined ? { holdoutShare: holdout } : {}),
            ...(days !== undefined ? { attributionDays: days } : {}),
            ...(flags.topic !== undefined ? { topic: flags.topic } : {}),
          },
          ctx.now(),
        );
        ctx.io.out.write(
          saved.created
            ? `saved campaign ${key} version ${saved.campaign.version}: comeback campaigns send ${key} to send it\n`
            : `campaign ${key} is unchanged (version ${saved.campaign.version})\n`,
        );
      } finally {
        await store.close();
      }
    },
  );
  dbOption(
    campaigns
      .command('send <key>')
      .description('enter the segment’s members now (or at --at); the worker delivers the messages')
      .option(
        '--at <instant>',
        'send at this instant: 2026-06-01T09:00 (the store’s zone) or 2026-06-01T09:00:00Z (default now)',
      )
      .option('--json', 'print JSON'),
  ).action(async (key: string, flags: { db?: string; at?: string; json?: boolean }) => {
    // Read in UTC first so that a bad instant is refused before the store opens; re-read in its zone
    // (a wall time without an offset, 2026-06-01T09:00, is the store's; one with an offset is taken as it is).
    dateFlag(flags.at, '--at');
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      const at = dateFlag(flags.at, '--at', await storeTimeZone(store.db));
      const now = ctx.now();
      const sent = await sendCampaign(store.db, key, { now, ...(at !== undefined ? { at } : {}) });
      if (flags.json) return printJson(ctx.io, sent);
      ctx.io.out.write(
        `${key}: ${sent.entered} of ${sent.audience} segment members entered (${sent.treatment} treated, ${sent.control} held out), sending from ${new Date(sent.at).toISOString()}${sent.entered < sent.audience ? `; ${sent.audience - sent.entered} had it already` : ''}\n`,
      );
    } finally {
      await store.close();
    }
  });
  dbOption(
    campaigns
      .command('report <key>')
      .description('entrants, sends, each variant’s lift and the lift against the hold-out group, with 95 % intervals')
      .option('--as-of <date>', AS_OF_HELP)
      .option('--json', 'print JSON'),
  ).action(reportAction(ctx));

  const messages = program.command('messages').description('message templates');
  dbOption(
    messages
      .command('preview <template>')
      .description('render a template for a customer, as it would be sent')
      .requiredOption('--customer <ref>', "the customer: the store's id, an e-mail, source:id or #internal-id"),
  ).action(async (key: string, flags: { db?: string; customer: string }) => {
    const store = await openStore(ctx.config(flags).dbUrl);
    try {
      await installBuiltins(store.db, ctx.now());
      const id = await resolveCustomerRef(store.db, flags.customer);
      const customer = await store.db
        .selectFrom('customers')
        .select(['id', 'first_name', 'last_name', 'email', 'country'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!customer) throw new ComebackError('not_found', `no customer ${flags.customer}`);
      const settings = await messagingSettings(store.db);
      // The customer's real blocks as of now (recommendations, new arrivals, loyalty); no journey, so no trigger.
      const blocks = await previewBlocks(store.db, id, ctx.now(), {
        locale: settings.language,
        storeUrl: settings.storeUrl,
      });
      const context: MessageContext = {
        ...blocks,
        customer,
        store: { name: settings.storeName, url: settings.storeUrl },
        scores: { p_alive: null, clv: null, churn_risk: null },
        coupon: { code: 'PREVIEW-CODE', description: 'an example offer', expires_on: '2099-12-31' },
        links: {
          unsubscribe: `${settings.publicUrl}/m/u/preview`,
          preferences: `${settings.publicUrl}/m/p/preview`,
          review: `${settings.publicUrl}/r/preview`,
          csat: `${settings.publicUrl}/s/preview`,
        },
      };
      const template = await latestTemplate(store.db, key);
      const message = await renderMessage(template, context);
      if (message.subject !== null) ctx.io.out.write(`Subject: ${message.subject}\n\n`);
      ctx.io.out.write(`${message.text}\n`);
    } finally {
      await store.close();
    }
  });
}

/** The flags of `flows settings`. */
type SettingsFlags = { db?: string; set?: string; storeUrl?: string; helpdeskUrl?: string; signingKeys?: boolean };

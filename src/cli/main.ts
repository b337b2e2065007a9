import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { busyError, ComebackError, type ErrorKind, isBusyError } from '../errors.js';
import { describeDatabaseFailure } from './database-errors.js';
import { exitQuietlyOnBrokenPipe, type Io, processIo } from './io.js';
import type { CommandContext } from './shared.js';

/** Exit codes of the CLI contract: 0 success, 1 bad input, 2 usage. */
const EXIT: Record<ErrorKind, number> = {
  bad_input: 1,
  usage: 2,
  not_found: 1,
  conflict: 1,
  unauthorized: 1,
  forbidden: 1,
  insufficient_points: 1,
  rate_limited: 1,
  busy: 1,
  internal: 1,
};

type Register = (program: Command, ctx: CommandContext) => void;

/**
 * Every top-level command: its name, arguments and one-line description for `comeback --help`, and how
 * to load the file that registers it. A command's code (and the database or HTTP stack it needs) is
 * loaded only when that command runs, so `--help` and a small command start about as fast as Node.
 * `test/cli-startup.test.ts` checks that each entry matches what its file registers.
 */
export const COMMANDS: ReadonlyArray<{
  name: string;
  args?: string;
  description: string;
  /** The command may create the database (import, serve, …); the others refuse a SQLite file that is not there. */
  creates?: true;
  load: () => Promise<Register>;
}> = [
  {
    name: 'import',
    creates: true,
    args: '<files...>',
    description: 'import order exports into the store (each file whole or not at all; re-imports change nothing)',
    load: async () => (await import('./commands/import.js')).registerImport,
  },
  {
    name: 'stats',
    description:
      'customers, orders, lines, events (the store’s, and apart those Comeback wrote), revenue by currency and the date range in the store',
    load: async () => (await import('./commands/stats.js')).registerStats,
  },
  {
    name: 'demo',
    creates: true,
    description:
      'load the bundled real sample (UCI Online Retail, 440 customers) into a fresh embedded database and serve the dashboard',
    load: async () => (await import('./commands/demo.js')).registerDemo,
  },
  {
    name: 'loyalty',
    creates: true,
    description: 'the loyalty program: points, tiers, rewards, referrals and store credit on append-only ledgers',
    load: async () => (await import('./commands/loyalty.js')).registerLoyalty,
  },
  {
    name: 'feedback',
    description: 'surveys and reviews: import answers collected elsewhere, the NPS / CSAT / exit-reason report',
    load: async () => (await import('./commands/feedback.js')).registerFeedback,
  },
  {
    name: 'report',
    description:
      'retention metrics of a period (CRR, churn, repeat rate, AOV, CLV, revenue churn…) against the previous one',
    load: async () => (await import('./commands/report.js')).registerReport,
  },
  {
    name: 'cohorts',
    description: 'acquisition cohorts by month or week of first purchase: what each cohort did in every later period',
    load: async () => (await import('./commands/cohorts.js')).registerCohorts,
  },
  {
    name: 'fit',
    args: '<model>',
    description: 'fit BG/NBD, Pareto/NBD, MBG/NBD or Gamma-Gamma to the customers; check against a hold-out',
    load: async () => (await import('./commands/predict.js')).registerPredict,
  },
  {
    name: 'predict',
    description: 'score every customer: P(alive), churn risk, expected purchases and purchase value, CLV, next order',
    load: async () => (await import('./commands/predict.js')).registerPredict,
  },
  {
    name: 'keys',
    creates: true,
    description: 'create, list and revoke API keys',
    load: async () => (await import('./commands/keys.js')).registerKeys,
  },
  {
    name: 'admin',
    creates: true,
    description: 'local admin accounts for the dashboard',
    load: async () => (await import('./commands/admin.js')).registerAdmin,
  },
  {
    name: 'serve',
    creates: true,
    description: 'serve the HTTP API (/api/v1, reference at /docs) and the dashboard (/)',
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    name: 'segments',
    description: 'who each customer is to the store, why, and what to do about it',
    load: async () => (await import('./commands/segments.js')).registerSegments,
  },
  {
    name: 'customer',
    args: '<id>',
    description:
      "one customer's whole story: profile, consent, orders, timeline, RFM, persona, stage, scores, segments",
    load: async () => (await import('./commands/customer.js')).registerCustomer,
  },
  {
    name: 'flows',
    description: 'triggered flows: win-back, abandonment, welcome … with hold-outs',
    load: async () => (await import('./commands/flows.js')).registerFlows,
  },
  {
    name: 'worker',
    description: 'enter customers into flows, move journeys on and deliver due messages from the outbox',
    load: async () => (await import('./commands/flows.js')).registerFlows,
  },
  {
    name: 'messages',
    description: 'message templates',
    load: async () => (await import('./commands/flows.js')).registerFlows,
  },
  {
    name: 'campaigns',
    description: 'one-off messages to a saved segment, now or scheduled, with an A/B split and a hold-out',
    load: async () => (await import('./commands/flows.js')).registerFlows,
  },
  {
    name: 'consent',
    description: 'marketing consent: record a change, re-confirm every two years (Korean rules)',
    load: async () => (await import('./commands/consent.js')).registerConsent,
  },
  {
    name: 'recommend',
    args: '[customer]',
    description: 'product recommendations for a customer, with reasons; --build, --evaluate, --cycles',
    load: async () => (await import('./commands/recommend.js')).registerRecommend,
  },
  {
    name: 'simulate',
    creates: true,
    description:
      'write a simulated store (BG/NBD or Pareto/NBD purchases, Gamma-Gamma values, CDNOW parameters) into the database or as a Shopify export',
    load: async () => (await import('./commands/simulate.js')).registerSimulate,
  },
];

/** The command a command line names: its first word that is not an option (`help X` names X). */
function requestedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Builds the `comeback` program. Only the command named in `argv` is loaded and registered in full;
 * the others are listed by name for help and suggestions. Without `argv`, every command is loaded.
 */
export async function buildProgram(
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  argv?: readonly string[],
  seen: { dbUrl?: string } = {},
): Promise<Command> {
  const program = new Command('comeback')
    .description('Customer-retention engine for online stores: who comes back, who is slipping away, what to do')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride();
  const wanted = argv === undefined ? undefined : requestedCommand(argv);
  const registered = new Set<Register>();
  const toLoad = COMMANDS.filter((entry) => argv === undefined || entry.name === wanted);
  // shared.ts brings the configuration and the store: loaded with the first command that needs them.
  const existingDatabase = toLoad.length === 1 && !toLoad[0]!.creates;
  const ctx =
    toLoad.length > 0
      ? (await import('./shared.js')).makeContext(io, env, {
          existingDatabase,
          onConfig: (config) => {
            seen.dbUrl = config.dbUrl;
          },
        })
      : undefined;
  for (const entry of toLoad) {
    if (ctx) {
      const register = await entry.load();
      if (!registered.has(register)) register(program, ctx);
      registered.add(register);
    }
  }
  for (const entry of COMMANDS) {
    if (program.commands.some((command) => command.name() === entry.name)) continue;
    program
      .command(entry.args ? `${entry.name} ${entry.args}` : entry.name)
      .description(entry.description)
      .allowUnknownOption()
      .helpOption(false);
  }
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

/** Runs the CLI and returns the exit code; errors are reported on stderr, never thrown. */
export async function main(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const seen: { dbUrl?: string } = {};
  try {
    const program = await buildProgram(io, env, argv, seen);
    await program.parseAsync(argv);
    return 0;
  } catch (thrown) {
    // SQLite's "database is locked" past the busy timeout: another writer holds the store.
    const error = isBusyError(thrown) ? busyError(thrown) : thrown;
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0
        ? 0
        : 2;
    }
    const connection = describeDatabaseFailure(error, seen.dbUrl);
    if (connection) {
      io.err.write(`comeback: ${connection}\n`);
      return 1;
    }
    if (error instanceof ComebackError) {
      io.err.write(`comeback: ${error.describe()}\n`);
      return EXIT[error.kind];
    }
    // A bug, not a mistake of the user's: one line, and the stack trace only when asked for.
    const detail = error instanceof Error ? error.message : String(error);
    const stack = env.COMEBACK_DEBUG && error instanceof Error ? `\n${error.stack}` : ' (COMEBACK_DEBUG=1 shows where)';
    io.err.write(`comeback: unexpected error: ${detail}${stack}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  exitQuietlyOnBrokenPipe(process.stdout);
  process.exitCode = await main(process.argv);
}

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { busyError, ComebackError, type ErrorKind, isBusyError } from '../errors.js';
import { registerAdmin } from './commands/admin.js';
import { registerCohorts } from './commands/cohorts.js';
import { registerCustomer } from './commands/customer.js';
import { registerDemo } from './commands/demo.js';
import { registerFlows } from './commands/flows.js';
import { registerImport } from './commands/import.js';
import { registerKeys } from './commands/keys.js';
import { registerLoyalty } from './commands/loyalty.js';
import { registerPredict } from './commands/predict.js';
import { registerRecommend } from './commands/recommend.js';
import { registerReport } from './commands/report.js';
import { registerSegments } from './commands/segments.js';
import { registerServe } from './commands/serve.js';
import { registerStats } from './commands/stats.js';
import { type Io, processIo } from './io.js';
import { makeContext } from './shared.js';

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

/** Builds the `comeback` program. */
export function buildProgram(io: Io, env: NodeJS.ProcessEnv = process.env): Command {
  const ctx = makeContext(io, env);
  const program = new Command('comeback')
    .description('Customer-retention engine for online stores: who comes back, who is slipping away, what to do')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride();
  registerImport(program, ctx);
  registerStats(program, ctx);
  registerDemo(program, ctx);
  registerLoyalty(program, ctx);
  registerReport(program, ctx);
  registerCohorts(program, ctx);
  registerPredict(program, ctx);
  registerKeys(program, ctx);
  registerAdmin(program, ctx);
  registerServe(program, ctx);
  registerSegments(program, ctx);
  registerCustomer(program, ctx);
  registerFlows(program, ctx);
  registerRecommend(program, ctx);
  for (const command of program.commands) command.exitOverride().showHelpAfterError();
  return program;
}

/** Runs the CLI and returns the exit code; errors are reported on stderr, never thrown. */
export async function main(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = buildProgram(io, env);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (thrown) {
    const error = isBusyError(thrown) ? busyError(thrown) : thrown;
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0
        ? 0
        : 2;
    }
    if (error instanceof ComebackError) {
      io.err.write(`comeback: ${error.describe()}\n`);
      return EXIT[error.kind];
    }
    io.err.write(
      `comeback: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await main(process.argv);

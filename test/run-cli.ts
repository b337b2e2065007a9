import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.js';

/**
 * Runs the `comeback` command line in-process with no environment, as `comeback ...args`, capturing
 * what it writes: the exit code and the text of stdout and stderr. (`cliIn` in setup.ts runs a child.)
 */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (chunk) => (stdout += String(chunk)));
  err.on('data', (chunk) => (stderr += String(chunk)));
  const code = await main(['node', 'comeback', ...args], { out, err }, {});
  return { code, out: stdout, err: stderr };
}

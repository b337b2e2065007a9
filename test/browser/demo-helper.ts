import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running `comeback demo`, as a user starts it. */
export interface Demo {
  process: ChildProcessWithoutNullStreams;
  url: string;
  user: string;
  password: string;
  output: () => string;
}

/**
 * Starts `comeback demo --port 0 --file FILE [extra…]` and reads the URL and the admin credentials from
 * its stdout (the same start as dashboard.test.ts and flows.test.ts); `extra` passes, for instance,
 * `--store kr`.
 */
export async function startDemo(file: string, extra: readonly string[] = []): Promise<Demo> {
  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  const child = spawn(
    process.execPath,
    ['--import', tsx, join(ROOT, 'src/cli/main.ts'), 'demo', '--port', '0', '--file', file, ...extra],
    { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const ready = await new Promise<{ url: string; user: string; password: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`comeback demo did not start in 90 s:\n${out}\n${err}`)), 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Comeback demo: (http:\/\/\S+)\s+user: (\S+)\s+password: (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, user: match[2]!, password: match[3]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`comeback demo exited with ${code}:\n${out}\n${err}`));
    });
  });
  return { process: child, ...ready, output: () => `${out}\n${err}` };
}

/** Stops a demo started by `startDemo` with SIGTERM; resolves with its exit code once it has exited. */
export function stopDemo(demo: Demo): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => demo.process.once('exit', resolve));
  demo.process.kill('SIGTERM');
  return exited;
}

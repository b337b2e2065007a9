import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { type Demo, ROOT, startDemo, stopDemo } from './demo-helper.js';

/** Where browser tests write their screenshots. */
export const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

/** A `comeback demo` on a fresh file, Chromium, and a desktop context signed in as the demo's admin. */
export interface SignedInDemo {
  demo: Demo;
  browser: Browser;
  context: BrowserContext;
  /** GET `/api/v1{path}` as the signed-in admin; asserts 200 and returns the JSON. */
  api<T>(path: string): Promise<T>;
  /** Closes the browser, stops the demo and removes its files. */
  close(): Promise<void>;
}

/**
 * Builds the dashboard bundle if it is missing, starts `comeback demo` on a new SQLite file in a temporary
 * directory named after `prefix`, runs `seed` on that file once the demo has created it, launches
 * Chromium and signs a 1366×800 `en-GB` context in.
 */
export async function startSignedInDemo(prefix: string, seed?: (file: string) => Promise<void>): Promise<SignedInDemo> {
  if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
    execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore' });
  }
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), `comeback-${prefix}-`));
  const file = join(dir, 'demo.db');
  const demo = await startDemo(file);
  let browser: Browser | undefined;
  try {
    if (seed) await seed(file);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: 'en-GB' });
    const signIn = await context.request.post(new URL('/api/v1/session', demo.url).href, {
      data: { username: demo.user, password: demo.password },
    });
    assert.equal(signIn.status(), 200, await signIn.text());
    const opened = browser;
    return {
      demo,
      browser: opened,
      context,
      async api<T>(path: string): Promise<T> {
        const response = await context.request.get(new URL(`/api/v1${path}`, demo.url).href);
        assert.equal(response.status(), 200, `${path}: ${await response.text()}`);
        return (await response.json()) as T;
      },
      async close() {
        await opened.close();
        await stopDemo(demo);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await stopDemo(demo);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
/** The `skip` of a browser suite: a reason without Chromium, except in CI where a missing browser must fail. */
export const chromiumSkip: string | false =
  hasChromium || process.env.CI ? false : `${CHROMIUM} not found (apt-get install chromium)`;

/** Launches headless Chromium with the flags the browser tests share (no sandbox, GPU or background traffic). */
export function launchChromium(): Promise<Browser> {
  if (!hasChromium) throw new Error(`CI is set and ${CHROMIUM} is missing: .ci/run installs it from Debian`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

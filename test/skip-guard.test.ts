import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const root = join(import.meta.dirname, '..');
const guard = join(root, 'scripts', 'skip-guard.mjs');
const probes = join(root, 'test', 'fixtures', 'skip-probe');

/** Runs a probe file under node's test runner, writing TAP, then the guard over it. */
function runGuard(probe: string, ci: boolean): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'comeback-skip-guard-'));
  try {
    const tap = join(dir, 'results.tap');
    const env = { ...process.env };
    delete env.CI;
    // Under node --test this variable makes a child runner report to its parent instead of writing TAP.
    delete env.NODE_TEST_CONTEXT;
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(probes, probe)], {
      env,
      encoding: 'utf8',
    });
    writeFileSync(tap, run.stdout);
    const result = spawnSync(process.execPath, [guard, tap], {
      env: ci ? { ...env, CI: 'true' } : env,
      encoding: 'utf8',
    });
    return { status: result.status, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the skip guard of scripts/test.sh', () => {
  test('counts a skipped suite, which Node 20 leaves out of its own summary, and fails under CI', () => {
    const { status, stderr } = runGuard('skipped-suite.mjs', true);
    assert.equal(status, 1);
    assert.match(stderr, /2 skipped and 1 to-do/);
    assert.match(stderr, /SKIP a suite that cannot run here — no server in this probe/);
    assert.match(stderr, /SKIP a suite that runs › is skipped — skipped on purpose/);
    assert.match(stderr, /TODO a suite that runs › is left to do/);
    assert.match(stderr, /under CI nothing may be skipped/);
  });

  test('outside CI it lists what was skipped and why, and lets the run pass', () => {
    const { status, stderr } = runGuard('skipped-suite.mjs', false);
    assert.equal(status, 0);
    assert.match(stderr, /SKIP a suite that cannot run here — no server in this probe/);
  });

  test('a run with nothing skipped passes under CI', () => {
    const { status, stderr } = runGuard('clean.mjs', true);
    assert.equal(status, 0);
    assert.match(stderr, /nothing skipped/);
  });
});

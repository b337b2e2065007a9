#!/usr/bin/env node
// Reads a TAP file written by node's test runner and lists every skipped or to-do test AND suite.
// Node 20's closing `# skipped N` counts skipped tests but not skipped `describe` blocks, so the
// summary line cannot be trusted: every `# SKIP` / `# TODO` directive is counted here instead.
// Prints what was skipped and why after every run; exits 1 under CI=true when anything was skipped.
// Usage: node scripts/skip-guard.mjs results.tap
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: skip-guard.mjs RESULTS.tap');
  process.exit(2);
}

const found = [];
const files = [];
for (const line of readFileSync(file, 'utf8').split('\n')) {
  // Subtests are indented by four spaces per level; a file's own subtest sits at the top.
  const subtest = /^(\s*)# Subtest: (.*)$/.exec(line);
  if (subtest) {
    const depth = subtest[1].length / 4;
    files.length = depth;
    files[depth] = subtest[2];
    continue;
  }
  const result = /^(\s*)(?:not )?ok \d+ - (.*?) # (SKIP|TODO)\b ?(.*)$/i.exec(line);
  if (!result) continue;
  const depth = result[1].length / 4;
  const path = [...files.slice(0, depth), result[2]].filter(Boolean).join(' › ');
  found.push({ kind: result[3].toUpperCase(), path, reason: result[4].trim() || '(no reason given)' });
}

if (found.length === 0) {
  console.error('skip guard: nothing skipped.');
  process.exit(0);
}
const skipped = found.filter((f) => f.kind === 'SKIP').length;
const todo = found.length - skipped;
console.error(`skip guard: ${skipped} skipped and ${todo} to-do (tests and suites):`);
for (const f of found) console.error(`  ${f.kind} ${f.path} — ${f.reason}`);
if (process.env.CI) {
  console.error('skip guard: under CI nothing may be skipped or left to do.');
  process.exit(1);
}

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', 'src');
const FACES = new Set(['cli', 'api', 'web']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The top-level folder of src/ a file belongs to ('' for src/index.ts and the like). */
function area(file: string): string {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0]! : '';
}

/** Every relative import of every source file, as (from area, to area, file, specifier). */
function edges() {
  const found: Array<{ from: string; to: string; file: string; spec: string }> = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), match[1]!);
      if (!target.startsWith(SRC)) continue;
      found.push({ from: area(file), to: area(`${target}.ts`), file: relative(SRC, file), spec: match[1]! });
    }
  }
  return found;
}

test('the import scan reads the imports it checks', () => {
  const all = edges();
  const files = sourceFiles(SRC);
  // A scan that finds nothing would let every rule below pass on an empty list.
  assert.ok(files.length > 100, `${files.length} source files found`);
  assert.ok(all.length > 300, `${all.length} relative imports read`);
  // Every folder of src/ but shared/ imports something, and known edges are seen (a file that imports).
  const areas = new Set(files.map(area).filter((a) => a !== ''));
  for (const a of areas) {
    if (a === 'shared') continue;
    assert.ok(
      all.some((e) => e.from === a),
      `no import read from ${a}/`,
    );
  }
  const known = [
    ['cli', 'segments'],
    ['segments', 'store'],
    ['segments', 'shared'],
    ['api', 'segments'],
    ['ingest', 'store'],
  ];
  for (const [from, to] of known) {
    assert.ok(
      all.some((e) => e.from === from && e.to === to),
      `the import ${from}/ → ${to}/ was read`,
    );
  }
  // Both spellings are read: \`import … from\` and \`export … from\`, single-line and multi-line.
  assert.ok(all.some((e) => e.file === 'segments/index.ts' && e.spec === './rules.js'));
  assert.ok(all.some((e) => e.file === 'cli/commands/segments.ts' && e.spec === '../../segments/index.js'));
});

test('imports flow one way: faces → domains → store → shared', () => {
  const all = edges();
  const broken = all.filter(({ from, to }) => from !== to && from !== '' && !FACES.has(from) && FACES.has(to));
  assert.deepEqual(broken, [], 'a domain imports a face');
  const impureModels = all.filter(({ from, to }) => from === 'models' && to !== 'models' && to !== 'shared');
  assert.deepEqual(impureModels, [], 'models/ imports only shared/');
  const sharedOut = all.filter(({ from, to }) => from === 'shared' && to !== 'shared');
  assert.deepEqual(sharedOut, [], 'shared/ imports nothing else in src');
  const storeUp = all.filter(({ from, to }) => from === 'store' && !['store', 'shared', ''].includes(to));
  assert.deepEqual(storeUp, [], 'store/ imports only shared/ and errors');
});

test('no cycles between the folders of src/', () => {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges()) {
    if (from === to || from === '' || to === '') continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycle: string[] = [];
  const visit = (node: string, path: string[]): boolean => {
    if (state.get(node) === 'done') return false;
    if (state.get(node) === 'open') {
      cycle.push(...path.slice(path.indexOf(node)), node);
      return true;
    }
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) if (visit(next, [...path, node])) return true;
    state.set(node, 'done');
    return false;
  };
  for (const node of graph.keys()) if (visit(node, [])) break;
  assert.deepEqual(cycle, [], `cycle: ${cycle.join(' → ')}`);
});

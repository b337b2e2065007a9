import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { processIo } from '../src/cli/io.js';
import { COMMANDS } from '../src/cli/main.js';
import { makeContext } from '../src/cli/shared.js';
import { tempDir } from './setup.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir('comeback-startup-');
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The packages a source file loads before it runs anything: its static imports, followed through
 * src/ (a dynamic `import()` is not followed: that is how a command defers its code).
 */
function staticPackages(entry: string): { packages: Set<string>; files: number } {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = match[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
      else if (!spec.startsWith('node:'))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { packages, files: seen.size };
}

describe('the command line starts fast', () => {
  test('main.ts loads no command, database or HTTP code before a command runs', () => {
    const { packages, files } = staticPackages(join(ROOT, 'src/cli/main.ts'));
    assert.ok(files >= 3, `read ${files} files`);
    assert.ok(packages.has('commander'), 'the walk sees package imports');
    for (const heavy of ['kysely', 'better-sqlite3', 'pg', 'fastify', 'pino', 'cli-progress']) {
      assert.ok(!packages.has(heavy), `main.ts loads ${heavy} before any command runs`);
    }
  });

  test('serve, admin and keys load Fastify only when they run', () => {
    for (const command of ['serve', 'admin', 'keys', 'demo']) {
      const { packages, files } = staticPackages(join(ROOT, `src/cli/commands/${command}.ts`));
      assert.ok(files >= 3 && packages.has('kysely'), `${command}: the walk reaches the store`);
      assert.ok(!packages.has('fastify'), `${command}.ts loads fastify at start-up`);
    }
  });

  test("the table behind --help matches what each command's file registers", async () => {
    const ctx = makeContext(processIo, {});
    const loaded = new Command('comeback');
    const registered = new Set<unknown>();
    for (const entry of COMMANDS) {
      const register = await entry.load();
      if (!registered.has(register)) register(loaded, ctx);
      registered.add(register);
    }
    assert.deepEqual(
      COMMANDS.map((e) => e.name).sort(),
      loaded.commands.map((c) => c.name()).sort(),
      'every registered command is in the table, and only those',
    );
    for (const entry of COMMANDS) {
      const command = loaded.commands.find((c) => c.name() === entry.name)!;
      assert.equal(entry.description, command.description(), entry.name);
      const args = command.registeredArguments.map((a) =>
        a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`,
      );
      assert.equal(entry.args ?? '', args.join(' '), `${entry.name} arguments`);
    }
  });
});

describe('the command line in a pipe', () => {
  const comeback = (shell: string) =>
    spawnSync('bash', ['-c', `set -o pipefail; ${shell}`], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        COMEBACK_BIN: `${process.execPath} --import ${import.meta.resolve('tsx')} ${join(ROOT, 'src/cli/main.ts')}`,
      },
    });

  test('a reader that stops early ends the command quietly (no EPIPE, no stack trace)', () => {
    const db = `sqlite:${join(dir, 'pipe.db')}`;
    const cdnow = join(ROOT, 'samples/cdnow/CDNOW_sample.txt');
    assert.equal(comeback(`$COMEBACK_BIN import ${cdnow} --format cdnow --db ${db} >/dev/null`).status, 0);
    // `true` exits without reading, so every write of the command meets a closed pipe.
    for (const args of ['stats', 'predict --csv', 'segments rfm --csv']) {
      const result = comeback(`$COMEBACK_BIN ${args} --db ${db} | true`);
      assert.equal(result.stderr.replace(/^Fitted.*\n|^Scored.*\n/gm, ''), '', args);
      assert.equal(result.status, 0, args);
    }
    const head = comeback(`$COMEBACK_BIN stats --db ${db} | head -1`);
    assert.equal(head.status, 0);
    assert.equal(head.stdout.split('\n').length, 2);
    assert.equal(head.stderr, '');
  });

  test('--help lists every command', () => {
    const result = comeback('$COMEBACK_BIN --help');
    assert.equal(result.status, 0, result.stderr);
    for (const entry of COMMANDS) assert.match(result.stdout, new RegExp(`^  ${entry.name}\\b`, 'm'));
  });
});

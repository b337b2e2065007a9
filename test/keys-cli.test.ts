import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { cliIn, tempDir } from './setup.js';

/** `comeback keys create --scope publishable --origin …` as a user runs it. */
describe('comeback keys create --scope publishable', () => {
  const dir = tempDir('comeback-keys-');
  const cli = cliIn(dir, 'shop.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints the key and the member secret once; the list shows the origins, never the secrets', () => {
    const human = cli(
      'keys',
      'create',
      '--scope',
      'publishable',
      '--origin',
      'https://shop.example',
      '--name',
      'theme',
    );
    assert.equal(human.code, 0, human.err);
    const [key, secretLine] = human.out.trim().split('\n');
    assert.match(key!, /^cb_publishable_[\w-]{43}$/);
    assert.match(secretLine!, /^member secret: [\w-]{43}$/);
    assert.match(human.err, /https:\/\/shop\.example/);
    const json = cli(
      'keys',
      'create',
      '--scope',
      'publishable',
      '--origin',
      'https://a.example',
      'http://localhost:3000',
      '--json',
    );
    assert.equal(json.code, 0, json.err);
    const created = JSON.parse(json.out);
    assert.deepEqual(created.origins, ['https://a.example', 'http://localhost:3000']);
    assert.match(created.memberSecret, /^[\w-]{43}$/);
    const list = cli('keys', 'list', '--json');
    const keys = JSON.parse(list.out);
    assert.deepEqual(
      keys.map((k: { scope: string; origins: string[] }) => [k.scope, k.origins]),
      [
        ['publishable', ['https://a.example', 'http://localhost:3000']],
        ['publishable', ['https://shop.example']],
      ],
    );
    assert.doesNotMatch(list.out, new RegExp(created.memberSecret));
    assert.doesNotMatch(list.out, /memberSecret|member_secret/);
  });

  test('without --origin it is a usage error; a URL with a path is bad input naming origins', () => {
    const missing = cli('keys', 'create', '--scope', 'publishable');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--origin/);
    const path = cli('keys', 'create', '--scope', 'publishable', '--origin', 'https://shop.example/shop');
    assert.equal(path.code, 1);
    assert.match(path.err, /origins/);
    const server = cli('keys', 'create', '--scope', 'write', '--origin', 'https://shop.example');
    assert.equal(server.code, 1);
    assert.match(server.err, /only publishable/);
  });
});

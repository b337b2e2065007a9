import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { BUILTIN_TEMPLATES, builtinFlows, installBuiltins } from './builtin.js';
import { listFlows, saveFlow } from './flows.queries.js';

describe('built-in flows', () => {
  test('every built-in flow validates and names only built-in templates', () => {
    const keys = new Set(BUILTIN_TEMPLATES.map((t) => t.key));
    const flows = builtinFlows();
    assert.deepEqual(
      flows.map((f) => f.key),
      ['win-back', 'cart-abandonment', 'browse-abandonment', 'welcome', 'second-order', 'review-request', 'birthday'],
    );
    for (const flow of flows) {
      for (const step of flow.steps)
        if (step.type === 'send') assert.ok(keys.has(step.template), `${flow.key}: ${step.template}`);
    }
  });

  for (const dialect of DIALECTS) {
    test(`install once, off until turned on, never over a store's own version (${dialect.name})`, {
      skip: dialect.skip,
    }, async () => {
      const t = await freshDatabase(dialect.name);
      try {
        assert.deepEqual(await installBuiltins(t.store.db, 1000), { flows: 7, templates: BUILTIN_TEMPLATES.length });
        const listed = await listFlows(t.store.db);
        assert.equal(listed.length, 7);
        assert.ok(listed.every((f) => !f.enabled && f.version === 1));
        const winBack = builtinFlows()[0]!;
        await saveFlow(t.store.db, { ...winBack, holdoutShare: 0.2 }, 2000);
        assert.deepEqual(await installBuiltins(t.store.db, 3000), { flows: 0, templates: 0 });
        const after = await listFlows(t.store.db);
        assert.equal(after.find((f) => f.key === 'win-back')?.version, 2);
      } finally {
        await t.drop();
      }
    });
  }
});

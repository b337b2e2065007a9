import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DIALECTS, freshDatabase } from '../../test/setup.js';
import { BUILTIN_TEMPLATES, BUILTIN_TEMPLATES_KO, builtinFlows, installBuiltins } from './builtin.js';
import { emptyBlocks } from './context.queries.js';
import { latestTemplate, listFlows, saveFlow } from './flows.queries.js';
import { compileTemplate, type MessageContext, renderMessage } from './render.js';
import { saveMessagingSettings } from './settings.js';

describe('built-in flows', () => {
  test('every built-in marketing send names its preference-centre topic', () => {
    const topics = builtinFlows().map((f) => [
      f.key,
      [...new Set(f.steps.flatMap((s) => (s.type === 'send' ? [s.topic ?? 'none'] : [])))],
    ]);
    assert.deepEqual(topics, [
      ['win-back', ['offers']],
      ['cart-abandonment', ['offers']],
      ['browse-abandonment', ['new_products']],
      ['welcome', ['new_products']],
      ['second-order', ['offers']],
      ['review-request', ['surveys']],
      ['replenishment', ['new_products']],
      ['birthday', ['offers']],
    ]);
  });

  test('every built-in flow validates and names only built-in templates', () => {
    const keys = new Set(BUILTIN_TEMPLATES.map((t) => t.key));
    const flows = builtinFlows();
    assert.deepEqual(
      flows.map((f) => f.key),
      [
        'win-back',
        'cart-abandonment',
        'browse-abandonment',
        'welcome',
        'second-order',
        'review-request',
        'replenishment',
        'birthday',
      ],
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
        assert.deepEqual(await installBuiltins(t.store.db, 1000), { flows: 8, templates: BUILTIN_TEMPLATES.length });
        const listed = await listFlows(t.store.db);
        assert.equal(listed.length, 8);
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

  test('the Korean templates have the same keys, channels and purposes as the English ones', () => {
    const shape = (t: (typeof BUILTIN_TEMPLATES)[number]) => `${t.key}|${t.channel}|${t.purpose}`;
    assert.deepEqual(BUILTIN_TEMPLATES_KO.map(shape), BUILTIN_TEMPLATES.map(shape));
    for (const t of BUILTIN_TEMPLATES_KO) {
      // No English left in what the customer reads (the MJML markup and Liquid aside).
      const words = `${t.subject ?? ''} ${t.body}`
        .replace(/<[^>]+>/g, ' ')
        .replace(/\{[{%][^}]*[}%]\}/g, ' ')
        .match(/[A-Za-z]{3,}/g);
      assert.equal(words, null, `${t.key}: ${words?.join(' ')}`);
    }
  });

  for (const dialect of DIALECTS) {
    test(`the sender's name follows the store's name until it is set apart (${dialect.name})`, {
      skip: dialect.skip,
    }, async () => {
      const t = await freshDatabase(dialect.name);
      try {
        const named = await saveMessagingSettings(t.store.db, { storeName: 'Tea & Co' });
        assert.deepEqual([named.storeName, named.fromName], ['Tea & Co', 'Tea & Co']);
        const apart = await saveMessagingSettings(t.store.db, { fromName: 'Ana at Tea & Co' });
        assert.deepEqual([apart.storeName, apart.fromName], ['Tea & Co', 'Ana at Tea & Co']);
        const renamed = await saveMessagingSettings(t.store.db, { storeName: 'Tea & Cake' });
        assert.deepEqual([renamed.storeName, renamed.fromName], ['Tea & Cake', 'Ana at Tea & Co']);
      } finally {
        await t.drop();
      }
    });
  }

  for (const dialect of DIALECTS) {
    test(`a store whose language is ko gets the Korean templates, and they render (${dialect.name})`, {
      skip: dialect.skip,
    }, async () => {
      const t = await freshDatabase(dialect.name);
      try {
        await saveMessagingSettings(t.store.db, { language: 'ko', storeName: '다온상회' });
        await installBuiltins(t.store.db, 1000);
        const template = await latestTemplate(t.store.db, 'birthday');
        const context: MessageContext = {
          ...emptyBlocks(),
          customer: { id: 1, first_name: '하늘', last_name: '김', email: 'a@example.kr', country: 'KR' },
          store: { name: '다온상회', url: null },
          scores: { p_alive: null, clv: null, churn_risk: null },
          coupon: { code: 'BIRT-ABC', description: '10% 할인', expires_on: '2026-07-01' },
          links: { unsubscribe: 'https://x.example/m/u/t', preferences: 'https://x.example/m/p/t' },
        };
        const message = await renderMessage(template, context);
        assert.equal(message.subject, '하늘님, 생일 축하드려요!');
        assert.match(message.text, /생일을 맞은 고객님께 작은 선물을 드려요\./);
        assert.match(message.text, /쿠폰 코드 BIRT-ABC: 10% 할인 \(2026-07-01까지\)/);
        assert.match(message.text, /다온상회에서 쇼핑하신 고객님께 보내 드리는 메일입니다\./);
      } finally {
        await t.drop();
      }
    });
  }

  test('each built-in flow has the name the dashboard lists it by', () => {
    assert.deepEqual(
      builtinFlows().map((f) => [f.key, f.name]),
      [
        ['win-back', 'Win-back'],
        ['cart-abandonment', 'Cart abandonment'],
        ['browse-abandonment', 'Browse abandonment'],
        ['welcome', 'Welcome after a first order'],
        ['second-order', 'Second-order nudge'],
        ['review-request', 'Review request'],
        ['replenishment', 'Replenishment and buy-again'],
        ['birthday', 'Birthday'],
      ],
    );
  });

  test('the review request names the order and its items when the trigger carries them', async () => {
    const template = await compileTemplate(BUILTIN_TEMPLATES.find((t) => t.key === 'review-request')!);
    const item = (title: string) => ({
      product_id: null,
      sku: null,
      title,
      url: null,
      image: null,
      price: null,
      quantity: 1,
    });
    const base: MessageContext = {
      ...emptyBlocks(),
      customer: { id: 1, first_name: 'Ana', last_name: null, email: 'a@example.com', country: 'GB' },
      store: { name: 'Tea & Co', url: null },
      scores: { p_alive: null, clv: null, churn_risk: null },
      coupon: null,
      links: {
        unsubscribe: 'https://x.example/m/u/t',
        preferences: 'https://x.example/m/p/t',
        review: 'https://x.example/r/t',
      },
    };
    const items = [item('Assam'), item('Oolong')];
    const withOrder = await renderMessage(template, {
      ...base,
      trigger: {
        ...base.trigger,
        type: 'order',
        items,
        item_count: 2,
        order: { name: '#1001', date: '2026-05-01', total: '£20.00', currency: 'GBP', lines: items },
      },
    });
    assert.equal(withOrder.subject, 'How was your order #1001?');
    // Two items: "A and B" (the last of more than one after "and"); the text part wraps at 72 columns.
    assert.match(
      withOrder.text,
      /\nTell other shoppers what you thought of Assam and Oolong: a review takes a\nminute\.\n\nWrite a review \[https:\/\/x\.example\/r\/t\]\n/,
    );
    assert.equal((await renderMessage(template, base)).subject, 'How was your order?');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyBlocks } from './context.queries.js';
import { compileTemplate, type MessageContext, renderMessage } from './render.js';

export function sampleContext(over: Partial<MessageContext> = {}): MessageContext {
  return {
    ...emptyBlocks(),
    customer: {
      id: 7,
      first_name: 'Ada <script>alert(1)</script>',
      last_name: 'Lovelace',
      email: 'ada@example.com',
      country: 'GB',
    },
    store: { name: 'Tea & Co', url: 'https://shop.example' },
    scores: { p_alive: 0.4, clv: 120.5, churn_risk: 'high' },
    loyalty: { member: true, balance: 450, balance_value: '£4.50', tier: 'Gold', rewards_within_reach: [] },
    coupon: { code: 'CB-7Q2X', description: '15 % off', expires_on: '2026-12-14' },
    products: [
      {
        product_id: 1,
        title: 'Earl Grey "Supreme"',
        url: 'https://shop.example/p/1',
        image: null,
        price: '£7.50',
        reason: 'bought with Darjeeling',
      },
    ],
    links: { unsubscribe: 'https://c.example/u/tok', preferences: 'https://c.example/p/tok' },
    ...over,
  };
}

const mjml = `<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ customer.first_name }}, your code {{ coupon.code }}</mj-text>
<mj-raw>{% for p in products %}</mj-raw><mj-text>{{ p.title }} — {{ p.reason }}</mj-text><mj-raw>{% endfor %}</mj-raw>
<mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>`;

describe('templates', () => {
  test('e-mail: MJML compiled once, every value escaped in HTML, a plain-text part, subject on one line', async () => {
    const compiled = await compileTemplate({
      key: 'win-back-offer',
      channel: 'email',
      purpose: 'marketing',
      subject: 'We miss you, {{ customer.first_name }}\n',
      body: mjml,
    });
    assert.ok(compiled.compiledHtml?.includes('{{ customer.first_name }}'), 'Liquid survives the MJML compile');
    const message = await renderMessage(compiled, sampleContext());
    assert.ok(message.html?.includes('Ada &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!message.html?.includes('<script>'));
    assert.ok(
      message.html?.includes('Earl Grey &#34;Supreme&#34;') || message.html?.includes('Earl Grey &quot;Supreme&quot;'),
    );
    assert.match(message.text, /Hello Ada <script>alert\(1\)<\/script>, your code CB-7Q2X/);
    assert.equal(message.subject, 'We miss you, Ada <script>alert(1)</script>');
  });

  test('SMS renders as plain text, unescaped', async () => {
    const compiled = await compileTemplate({
      key: 'sms',
      channel: 'sms',
      purpose: 'marketing',
      body: '{{ store.name }}: {{ coupon.code }} 15% off. Stop: {{ links.unsubscribe }}',
    });
    assert.equal(
      (await renderMessage(compiled, sampleContext())).text,
      'Tea & Co: CB-7Q2X 15% off. Stop: https://c.example/u/tok',
    );
  });

  test('a marketing template without the unsubscribe link is refused', async () => {
    await assert.rejects(
      compileTemplate({ key: 'x', channel: 'sms', purpose: 'marketing', body: 'Buy now' }),
      /must carry the unsubscribe link/,
    );
    // Transactional messages need none.
    await compileTemplate({ key: 'x', channel: 'sms', purpose: 'transactional', body: 'Your order shipped' });
  });

  test('an unknown variable or filter fails the render instead of printing nothing', async () => {
    const compiled = await compileTemplate({
      key: 'x',
      channel: 'sms',
      purpose: 'transactional',
      body: 'Hi {{ customer.nickname }}',
    });
    await assert.rejects(renderMessage(compiled, sampleContext()), /template x: .*undefined variable/i);
    await assert.rejects(
      compileTemplate({ key: 'y', channel: 'sms', purpose: 'transactional', body: '{% if %}' }).then((t) =>
        renderMessage(t, sampleContext()),
      ),
      /template y/,
    );
  });

  test('invalid MJML and a missing subject are refused when saving', async () => {
    await assert.rejects(
      compileTemplate({
        key: 'm',
        channel: 'email',
        purpose: 'transactional',
        subject: 's',
        body: '<mjml><mj-body><mj-bogus/></mj-body></mjml>',
      }),
      /template m: MJML line/,
    );
    await assert.rejects(
      compileTemplate({ key: 'm', channel: 'email', purpose: 'transactional', body: mjml }),
      /needs a subject/,
    );
  });

  test('a render that loops without end is stopped by the limits', async () => {
    const compiled = await compileTemplate({
      key: 'loop',
      channel: 'sms',
      purpose: 'transactional',
      body: '{% for i in (1..100000000) %}{{ i }}{% endfor %}',
    });
    await assert.rejects(renderMessage(compiled, sampleContext()), /template loop/);
  });
});

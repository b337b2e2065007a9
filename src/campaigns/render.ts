import { compile as compileHtmlToText } from 'html-to-text';
import { Liquid } from 'liquidjs';
import mjml2html from 'mjml';
import { ComebackError } from '../errors.js';

/**
 * Messages are Liquid templates (the language Shopify merchants already write). One factory makes
 * every engine: templates come from memory only (no file system), variables must exist, only own
 * properties are read, and parse, render time and memory are limited; HTML output escapes every value.
 * E-mail bodies are MJML, compiled to HTML once when a template version is saved.
 */

/** What a template can read. Every key is present (null when unknown), so strict variables never trip on a gap. */
export type MessageContext = {
  customer: {
    id: number;
    first_name: string | null;
    last_name: string | null;
    email: string | null;
    country: string | null;
  };
  store: { name: string; url: string | null };
  scores: { p_alive: number | null; clv: number | null; churn_risk: string | null };
  /** The member's status as of the send (`member: false` and nulls for a customer who is not one). */
  loyalty: {
    member: boolean;
    balance: number | null;
    /** What the balance is worth, formatted in the program's currency. */
    balance_value: string | null;
    tier: string | null;
    /** Rewards they can take now (`points_needed` 0), then the next one they cannot yet. */
    rewards_within_reach: Array<{ key: string; name: string; cost: number; points_needed: number }>;
  };
  coupon: { code: string; description: string; expires_on: string } | null;
  /** Recommended products (the step's method), each with the reason it is shown. */
  products: Array<{
    product_id: number;
    title: string;
    url: string | null;
    image: string | null;
    price: string | null;
    reason: string | null;
  }>;
  /** Which recommendations `products` holds; `note` says why the list is short or empty (no build yet …). */
  recommendations: { method: string | null; build_id: number | null; note: string | null };
  /** The catalogue's newest items (first priced by a catalogue import or webhook), newest first. */
  new_arrivals: Array<{
    product_id: number;
    title: string;
    url: string | null;
    image: string | null;
    price: string | null;
    arrived_on: string;
  }>;
  /** `review` and `csat`: signed links to the order's review page and CSAT survey (feedback-links.queries.ts), null when not applicable. */
  links: { unsubscribe: string; preferences: string; review?: string | null; csat?: string | null };
  /** What the trigger carried (the cart's items, the order with its lines, the points and date …): `TriggerBlock`. */
  trigger: { type: string; items: unknown[] } & Record<string, unknown>;
};

const LIMITS = { parseLimit: 100_000, renderLimit: 1_000, memoryLimit: 10_000_000 } as const;

/** The one Liquid engine factory: `html` escapes every output, `text` (SMS, KakaoTalk, subjects) does not. */
export function liquidEngine(mode: 'html' | 'text'): Liquid {
  return new Liquid({
    templates: {},
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    ...(mode === 'html' ? { outputEscape: 'escape' as const } : {}),
    ...LIMITS,
  });
}

const engines = { html: liquidEngine('html'), text: liquidEngine('text') };

/** Renders a Liquid source with `context`; a template error is a bad_input naming the template. */
export async function renderLiquid(
  source: string,
  context: MessageContext,
  mode: 'html' | 'text',
  name = 'template',
): Promise<string> {
  try {
    const engine = engines[mode];
    return await engine.parseAndRender(source, context);
  } catch (error) {
    throw new ComebackError('bad_input', `${name}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** A template as saved: e-mail carries its compiled HTML. */
export interface TemplateSource {
  key: string;
  channel: 'email' | 'sms' | 'kakao' | 'webhook';
  purpose: 'marketing' | 'transactional';
  subject?: string | null;
  /** MJML for e-mail, text for SMS and KakaoTalk; webhooks send the context as JSON and ignore it. */
  body: string;
  /** An optional plain-text part for e-mail; derived from the HTML when absent. */
  text?: string | null;
}

/** What saving a template version stores: the MJML compiled to HTML, Liquid tags still inside. */
export interface CompiledTemplate extends TemplateSource {
  compiledHtml: string | null;
}

/**
 * Checks and compiles a template for saving: Liquid must parse; e-mail needs a subject and valid MJML;
 * a marketing template must carry the unsubscribe link (`{{ links.unsubscribe }}`). Throws bad_input
 * naming the template and the problem.
 */
export async function compileTemplate(template: TemplateSource): Promise<CompiledTemplate> {
  const where = `template ${template.key}`;
  for (const [part, source] of [
    ['body', template.body],
    ['subject', template.subject ?? ''],
    ['text', template.text ?? ''],
  ] as const) {
    try {
      engines.text.parse(source);
    } catch (error) {
      throw new ComebackError('bad_input', `${where}: ${part}: ${error instanceof Error ? error.message : error}`);
    }
  }
  // A KakaoTalk advertisement gets its opt-out line from the Korean rules at render (korea.ts), always.
  if (
    template.purpose === 'marketing' &&
    template.channel !== 'webhook' &&
    template.channel !== 'kakao' &&
    !/links\.unsubscribe/.test(template.body)
  ) {
    throw new ComebackError(
      'bad_input',
      `${where}: a marketing message must carry the unsubscribe link ({{ links.unsubscribe }})`,
    );
  }
  if (template.channel !== 'email') return { ...template, compiledHtml: null };
  if (!template.subject) throw new ComebackError('bad_input', `${where}: an e-mail needs a subject`);
  // Strict validation throws a ValidationError whose `errors` list each problem with its line.
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(template.body, { validationLevel: 'strict', keepComments: false });
  } catch (error) {
    const errors = (error as { errors?: Array<{ line: number; message: string }> }).errors;
    const first = errors?.[0];
    const detail = first ? `MJML line ${first.line}: ${first.message}` : `MJML: ${String(error)}`;
    throw new ComebackError('bad_input', `${where}: ${detail}`, { cause: error });
  }
  return { ...template, compiledHtml: result.html };
}

/** The plain-text part from the HTML: one converter compiled once (compiling it per message was half a render). */
const htmlToText = compileHtmlToText({ wordwrap: 78, selectors: [{ selector: 'img', format: 'skip' }] });

/** A rendered message, ready for the outbox. */
export interface RenderedMessage {
  subject: string | null;
  html: string | null;
  text: string;
}

/** Renders a compiled template for one customer: HTML with every value escaped, text without. */
export async function renderMessage(template: CompiledTemplate, context: MessageContext): Promise<RenderedMessage> {
  const name = `template ${template.key}`;
  if (template.channel === 'email') {
    const html = await renderLiquid(template.compiledHtml ?? '', context, 'html', name);
    const text = template.text ? await renderLiquid(template.text, context, 'text', name) : htmlToText(html);
    const subject = await renderLiquid(template.subject ?? '', context, 'text', name);
    return { subject: subject.replace(/[\r\n]+/g, ' ').trim(), html, text };
  }
  return { subject: null, html: null, text: (await renderLiquid(template.body, context, 'text', name)).trim() };
}

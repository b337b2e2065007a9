import { createHmac } from 'node:crypto';
import { httpOutcome, type OutgoingMessage, type Sender, type SendOutcome } from './sender.js';

/** A provider reached with a JSON POST: an SMS gateway, a helpdesk, an ad-audience sync. */
export interface HttpSenderOptions {
  url: string;
  /** `Authorization: Bearer …`. */
  bearer?: string;
  /** Signs the body: `X-Comeback-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
  signingSecret?: string;
  /** Gives up on a provider that does not answer (default 10 s); a time-out is retried. */
  timeoutMs?: number;
  /** The clock used for the signature's time stamp (seconds); the caller's, never read here. */
  now: () => number;
}

/** The signature header value for a body at `nowMs` (Stripe's scheme: the time stamp is signed too). */
export function signBody(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * The body a provider receives. SMS: `{message_id, to, from, text}`; a template-based channel adds
 * `template_code` and `variables` (KakaoTalk notification messages fit here). A webhook receives the
 * rendered context object. Bodies are objects serialised with JSON.stringify, never JSON a template wrote.
 */
export function providerBody(message: OutgoingMessage): Record<string, unknown> {
  // A webhook and a helpdesk alert (campaigns/helpdesk.queries.ts) receive their payload object as it is.
  if (message.channel === 'webhook' || message.channel === 'helpdesk')
    return { message_id: message.messageId, ...message.payload };
  return {
    message_id: message.messageId,
    to: message.to,
    from: message.payload.from ?? null,
    text: message.payload.text ?? '',
    ...(message.payload.templateCode ? { template_code: message.payload.templateCode } : {}),
    ...(message.payload.variables ? { variables: message.payload.variables } : {}),
  };
}

/** Sends by POSTing JSON; 2xx is sent (the body's `id` is the provider's id), 429/5xx/time-outs retry. */
export function httpSender(options: HttpSenderOptions): Sender {
  return {
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      const body = JSON.stringify(providerBody(message));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': message.messageId,
      };
      if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
      if (options.signingSecret) headers['x-comeback-signature'] = signBody(options.signingSecret, body, options.now());
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        return { type: 'retry', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      const text = await response.text().catch(() => '');
      const problem = httpOutcome(response.status, response.headers.get('retry-after'), text);
      if (problem) return problem;
      let providerId: string | null = null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && 'id' in parsed) providerId = String(parsed.id);
      } catch {
        providerId = null;
      }
      return { type: 'sent', providerId };
    },
  };
}

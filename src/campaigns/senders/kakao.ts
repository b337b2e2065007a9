import { createHmac, randomBytes } from 'node:crypto';
import { domesticNumber } from '../korea.js';
import { httpOutcome, type OutgoingMessage, type Sender, type SendOutcome } from './sender.js';

/**
 * KakaoTalk business messages through a Korean provider. 알림톡 (AlimTalk) carries information the
 * customer triggered, with a template Kakao approved: the text must equal the template with its
 * `#{var}` filled. 친구톡 / 브랜드 메시지 (FriendTalk, brand message) may advertise. Providers can fall
 * back to SMS or LMS when the recipient cannot get the KakaoTalk message; the outbox payload already
 * says which (by EUC-KR bytes, see `korea.ts`).
 */

/** The providers with a request shape here; `generic` is a documented JSON body for any gateway. */
export const KAKAO_PROVIDERS = ['solapi', 'nhncloud', 'generic'] as const;
export type KakaoProvider = (typeof KAKAO_PROVIDERS)[number];

/** The KakaoTalk part of an outbox payload, as `advance.queries.ts` writes it. */
export interface KakaoPayload {
  type: 'alimtalk' | 'friendtalk';
  /** The code of the template registered with Kakao (알림톡; optional for 친구톡). */
  templateCode: string | null;
  /** The template's variables, by name without `#{}`. */
  variables: Record<string, string>;
  /** An advertisement (every marketing message). 알림톡 never is one. */
  isAd: boolean;
}

/** The SMS/LMS fallback of an outbox payload. */
export interface FallbackPayload {
  type: 'SMS' | 'LMS';
  text: string;
}

/** How to reach the provider. Secrets come from the environment, never from the settings table. */
export interface KakaoSenderOptions {
  provider: KakaoProvider;
  /** The provider's base URL (`https://api.solapi.com`, `https://api-alimtalk.cloud.toast.com`) or the generic endpoint. */
  url: string;
  /** The KakaoTalk channel's sender key (Solapi `pfId`, NHN `senderKey`). */
  senderKey: string;
  /** Solapi API key, or the bearer token of the generic provider. */
  apiKey?: string;
  /** Solapi API secret, or NHN Cloud's `X-Secret-Key`. */
  apiSecret?: string;
  /** NHN Cloud's app key (in the path). */
  appKey?: string;
  timeoutMs?: number;
  /** The clock (ms), for Solapi's signed date. */
  now: () => number;
  /** A fresh salt per request (Solapi); random by default. */
  salt?: () => string;
}

/** One HTTP request to a provider. */
export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Reads the KakaoTalk part of a payload; undefined when it is missing or malformed. */
export function kakaoPart(payload: Record<string, unknown>): KakaoPayload | undefined {
  const k = payload.kakao;
  if (!k || typeof k !== 'object') return undefined;
  const o = k as Record<string, unknown>;
  if (o.type !== 'alimtalk' && o.type !== 'friendtalk') return undefined;
  const variables: Record<string, string> = {};
  if (o.variables && typeof o.variables === 'object') {
    for (const [key, value] of Object.entries(o.variables)) variables[key] = String(value);
  }
  return {
    type: o.type,
    templateCode: typeof o.templateCode === 'string' ? o.templateCode : null,
    variables,
    isAd: o.isAd === true,
  };
}

function fallbackPart(payload: Record<string, unknown>): FallbackPayload | null {
  const f = payload.fallback;
  if (!f || typeof f !== 'object') return null;
  const o = f as Record<string, unknown>;
  if ((o.type !== 'SMS' && o.type !== 'LMS') || typeof o.text !== 'string') return null;
  return { type: o.type, text: o.text };
}

/** Solapi's signature: HMAC-SHA256 of `date + salt` with the API secret, hex (Solapi API v4 authentication). */
export function solapiAuthorization(apiKey: string, apiSecret: string, date: string, salt: string): string {
  const signature = createHmac('sha256', apiSecret)
    .update(date + salt)
    .digest('hex');
  return `HMAC-SHA256 apiKey=${apiKey}, date=${date}, salt=${salt}, signature=${signature}`;
}

/**
 * The request a provider receives for one message. Solapi v4 `POST /messages/v4/send` with `type`
 * `ATA` (알림톡) or `CTA` (친구톡) and `kakaoOptions` (variables keyed `#{name}`; `disableSms` off when
 * a fallback is wanted, Solapi then sends `text` as SMS/LMS). NHN Cloud `POST
 * /alimtalk/v2.3/appkeys/{appKey}/messages` (`templateParameter`) or `/friendtalk/v2.4/…` (`content`,
 * `isAd`), each recipient with a `resendParameter`. Generic: one flat JSON object.
 */
export function kakaoRequest(options: KakaoSenderOptions, message: OutgoingMessage): ProviderRequest {
  const kakao = kakaoPart(message.payload);
  if (!kakao) throw new Error(`outbox message ${message.messageId} has no KakaoTalk payload`);
  const fallback = fallbackPart(message.payload);
  const text = String(message.payload.text ?? '');
  const from = String(message.payload.from ?? '');
  const to = domesticNumber(message.to);
  const base = options.url.replace(/\/$/, '');
  switch (options.provider) {
    case 'solapi': {
      const date = new Date(options.now()).toISOString();
      const salt = options.salt ? options.salt() : randomBytes(16).toString('hex');
      const kakaoOptions: Record<string, unknown> = { pfId: options.senderKey, disableSms: fallback === null };
      if (kakao.templateCode) kakaoOptions.templateId = kakao.templateCode;
      if (kakao.type === 'alimtalk') {
        kakaoOptions.variables = Object.fromEntries(Object.entries(kakao.variables).map(([k, v]) => [`#{${k}}`, v]));
      }
      return {
        url: `${base}/messages/v4/send`,
        headers: {
          authorization: solapiAuthorization(options.apiKey ?? '', options.apiSecret ?? '', date, salt),
          'content-type': 'application/json',
        },
        body: {
          message: {
            to,
            from,
            // Solapi sends `text` as the fallback SMS/LMS too; for 알림톡 it must equal the filled template.
            text,
            type: kakao.type === 'alimtalk' ? 'ATA' : 'CTA',
            kakaoOptions,
          },
        },
      };
    }
    case 'nhncloud': {
      const resendParameter = fallback
        ? { isResend: true, resendType: fallback.type, resendContent: fallback.text, resendSendNo: from }
        : { isResend: false };
      const headers = {
        'x-secret-key': options.apiSecret ?? '',
        'content-type': 'application/json;charset=UTF-8',
      };
      const appKey = encodeURIComponent(options.appKey ?? '');
      if (kakao.type === 'alimtalk') {
        return {
          url: `${base}/alimtalk/v2.3/appkeys/${appKey}/messages`,
          headers,
          body: {
            senderKey: options.senderKey,
            templateCode: kakao.templateCode,
            recipientList: [{ recipientNo: to, templateParameter: kakao.variables, resendParameter }],
          },
        };
      }
      return {
        url: `${base}/friendtalk/v2.4/appkeys/${appKey}/messages`,
        headers,
        body: {
          senderKey: options.senderKey,
          recipientList: [{ recipientNo: to, content: text, isAd: kakao.isAd, resendParameter }],
        },
      };
    }
    case 'generic': {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': message.messageId,
      };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      return {
        url: base,
        headers,
        body: {
          message_id: message.messageId,
          channel: 'kakao',
          kakao_type: kakao.type,
          sender_key: options.senderKey,
          template_code: kakao.templateCode,
          variables: kakao.variables,
          is_ad: kakao.isAd,
          to,
          from,
          text,
          fallback,
        },
      };
    }
  }
}

/** Reads the provider's answer to a 2xx: the provider's id, or why it refused. */
export function kakaoAnswer(provider: KakaoProvider, text: string): SendOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return provider === 'generic'
      ? { type: 'sent', providerId: null }
      : { type: 'failed', reason: `unreadable answer: ${text.slice(0, 200)}`, permanent: false };
  }
  const o = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  if (provider === 'solapi') {
    // Accepted messages answer statusCode "2000" with the message's id.
    if (o.statusCode !== undefined && String(o.statusCode) !== '2000') {
      return {
        type: 'failed',
        reason: `Solapi ${String(o.statusCode)}: ${String(o.statusMessage ?? '')}`,
        permanent: false,
      };
    }
    return { type: 'sent', providerId: typeof o.messageId === 'string' ? o.messageId : null };
  }
  if (provider === 'nhncloud') {
    const header = (o.header ?? {}) as Record<string, unknown>;
    if (header.isSuccessful !== true) {
      return {
        type: 'failed',
        reason: `NHN Cloud ${String(header.resultCode)}: ${String(header.resultMessage ?? '')}`,
        permanent: false,
      };
    }
    const body = (o.message ?? {}) as Record<string, unknown>;
    const first = Array.isArray(body.sendResults)
      ? (body.sendResults[0] as Record<string, unknown> | undefined)
      : undefined;
    if (first && first.resultCode !== 0) {
      return {
        type: 'failed',
        reason: `NHN Cloud recipient ${String(first.resultCode)}: ${String(first.resultMessage ?? '')}`,
        permanent: false,
      };
    }
    return { type: 'sent', providerId: typeof body.requestId === 'string' ? body.requestId : null };
  }
  return { type: 'sent', providerId: 'id' in o && o.id != null ? String(o.id) : null };
}

/**
 * The KakaoTalk channel adapter. Refuses, before any request, a 알림톡 that is an advertisement (정보통신망법
 * 제50조: promotions are never 알림톡) or has no template code; 429, 5xx and time-outs are retried.
 */
export function kakaoSender(options: KakaoSenderOptions): Sender {
  return {
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      const kakao = kakaoPart(message.payload);
      if (!kakao) return { type: 'failed', reason: 'no KakaoTalk payload', permanent: false };
      if (kakao.type === 'alimtalk' && (kakao.isAd || String(message.payload.text ?? '').startsWith('(광고)'))) {
        return {
          type: 'failed',
          reason: 'alimtalk_promotional: 알림톡 carries information only; an advertisement goes as 친구톡',
          permanent: false,
        };
      }
      if (kakao.type === 'alimtalk' && !kakao.templateCode) {
        return {
          type: 'failed',
          reason: 'alimtalk_template: 알림톡 needs a registered template code',
          permanent: false,
        };
      }
      const request = kakaoRequest(options, message);
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: 'POST',
          headers: request.headers,
          body: JSON.stringify(request.body),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        return { type: 'retry', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
      const text = await response.text().catch(() => '');
      const problem = httpOutcome(response.status, response.headers.get('retry-after'), text);
      if (problem) return problem;
      return kakaoAnswer(options.provider, text);
    },
  };
}

/** Fills a registered 알림톡 template: every `#{name}` replaced by its variable; a missing one is an error. */
export function fillAlimtalk(template: string, variables: Readonly<Record<string, string>>): string {
  const missing: string[] = [];
  const text = template.replace(/#\{([^}]+)\}/g, (_whole, name: string) => {
    const value = variables[name];
    if (value === undefined) {
      missing.push(name);
      return '';
    }
    return value;
  });
  if (missing.length > 0) throw new Error(`알림톡 template variables without a value: ${missing.join(', ')}`);
  return text;
}

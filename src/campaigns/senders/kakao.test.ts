import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fillAlimtalk, type KakaoSenderOptions, kakaoSender } from './kakao.js';
import type { OutgoingMessage } from './sender.js';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * One loopback server implementing three provider contracts: Solapi v4 (HMAC-signed `Authorization`,
 * `{statusCode: "2000"}` on acceptance, 4xx `{errorCode, errorMessage}` on refusal), NHN Cloud
 * (`X-Secret-Key`, `{header: {isSuccessful}}`, HTTP 200 even on refusal) and a generic JSON gateway
 * (bearer token, `{id}`).
 */
async function startProviders(): Promise<{ base: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body: unknown = raw ? JSON.parse(raw) : null;
      const path = req.url ?? '';
      received.push({ method: req.method ?? '', path, headers: req.headers, body });
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      const b = body as {
        message?: { to?: string };
        senderKey?: string;
        recipientList?: Array<{ recipientNo?: string }>;
        to?: string;
        message_id?: string;
      };
      if (path === '/solapi/messages/v4/send') {
        const auth = /^HMAC-SHA256 apiKey=(\S+), date=(\S+), salt=(\S+), signature=([0-9a-f]+)$/.exec(
          req.headers.authorization ?? '',
        );
        const expected = auth
          ? createHmac('sha256', 'solapi-secret')
              .update(auth[2]! + auth[3]!)
              .digest('hex')
          : '';
        if (auth?.[1] !== 'solapi-key' || auth[4] !== expected) {
          json(403, { errorCode: 'SignatureDoesNotMatch', errorMessage: '서명이 일치하지 않습니다.' });
          return;
        }
        if (b.message?.to === '01000000000') {
          json(400, { errorCode: 'ValidationError', errorMessage: '수신번호가 올바르지 않습니다.' });
          return;
        }
        json(200, {
          groupId: 'G4V1',
          messageId: `M4V${received.length}`,
          statusCode: '2000',
          statusMessage: '정상 접수',
        });
        return;
      }
      const nhn = /^\/nhn\/(alimtalk\/v2\.3|friendtalk\/v2\.4)\/appkeys\/([^/]+)\/messages$/.exec(path);
      if (nhn) {
        if (req.headers['x-secret-key'] !== 'nhn-secret' || nhn[2] !== 'nhn-app') {
          json(401, { header: { resultCode: 401, resultMessage: 'Unauthorized', isSuccessful: false } });
          return;
        }
        if (b.senderKey !== 'nhn-sender') {
          json(200, { header: { resultCode: -1006, resultMessage: 'Invalid sender key', isSuccessful: false } });
          return;
        }
        json(200, {
          header: { resultCode: 0, resultMessage: 'SUCCESS', isSuccessful: true },
          message: {
            requestId: 'REQ-20260601-1',
            sendResults: [
              {
                recipientSeq: 1,
                recipientNo: b.recipientList?.[0]?.recipientNo,
                resultCode: 0,
                resultMessage: 'SUCCESS',
              },
            ],
          },
        });
        return;
      }
      if (path === '/generic') {
        if (req.headers.authorization !== 'Bearer generic-token') {
          json(401, { error: 'unauthorised' });
          return;
        }
        if (b.to === '01099999999') {
          res.writeHead(503, { 'retry-after': '30' }).end('busy');
          return;
        }
        json(202, { id: `gen-${b.message_id}` });
        return;
      }
      json(404, { error: 'no such route' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const NOW = Date.parse('2026-06-01T03:00:00Z');
const SHIPPED = '[다온상회] #{고객명}님, 주문하신 상품이 발송되었습니다.\n송장번호: #{송장번호}';
const SHIPPED_TEXT = '[다온상회] 김하늘님, 주문하신 상품이 발송되었습니다.\n송장번호: 1234-5678';
const AD_SHORT = '(광고) 다온상회\n봄 세일 20%\n무료수신거부 080-123-4567'; // 51 EUC-KR bytes: SMS
const AD_LONG = `(광고) 다온상회\n${'봄맞이 전 품목 할인 행사를 시작합니다. '.repeat(4)}\n무료수신거부 080-123-4567`;

const alimtalk = (to = '+821012345678'): OutgoingMessage => ({
  messageId: '<a1@comeback>',
  channel: 'kakao',
  to,
  payload: {
    kakao: {
      type: 'alimtalk',
      templateCode: 'SHIPPED01',
      variables: { 고객명: '김하늘', 송장번호: '1234-5678' },
      isAd: false,
    },
    from: '0212345678',
    text: SHIPPED_TEXT,
    fallback: { type: 'LMS', text: SHIPPED_TEXT },
  },
});

const friendtalk = (text: string, fallbackType: 'SMS' | 'LMS', to = '+821012345678'): OutgoingMessage => ({
  messageId: '<f1@comeback>',
  channel: 'kakao',
  to,
  payload: {
    kakao: { type: 'friendtalk', templateCode: null, variables: {}, isAd: true },
    from: '0212345678',
    text,
    fallback: { type: fallbackType, text },
  },
});

describe('KakaoTalk providers against real HTTP servers on loopback', () => {
  let p: Awaited<ReturnType<typeof startProviders>>;
  before(async () => {
    p = await startProviders();
  });
  after(async () => {
    await p.close();
  });
  const solapi = (): KakaoSenderOptions => ({
    provider: 'solapi',
    url: `${p.base}/solapi`,
    senderKey: 'KA01PF-sender',
    apiKey: 'solapi-key',
    apiSecret: 'solapi-secret',
    now: () => NOW,
    salt: () => 'salt0123456789abcdef',
  });
  const nhn = (senderKey = 'nhn-sender'): KakaoSenderOptions => ({
    provider: 'nhncloud',
    url: `${p.base}/nhn`,
    senderKey,
    appKey: 'nhn-app',
    apiSecret: 'nhn-secret',
    now: () => NOW,
  });
  const generic = (): KakaoSenderOptions => ({
    provider: 'generic',
    url: `${p.base}/generic`,
    senderKey: 'gen-sender',
    apiKey: 'generic-token',
    now: () => NOW,
  });
  const last = () => p.received[p.received.length - 1]!;

  test('the registered 알림톡 text is reproduced exactly from the template and its variables', () => {
    assert.equal(fillAlimtalk(SHIPPED, { 고객명: '김하늘', 송장번호: '1234-5678' }), SHIPPED_TEXT);
    assert.throws(() => fillAlimtalk(SHIPPED, { 고객명: '김하늘' }), /송장번호/);
  });

  test('Solapi 알림톡: signed request, ATA with #{} variables and SMS fallback on; accepted answer gives the id', async () => {
    const outcome = await kakaoSender(solapi()).send(alimtalk());
    assert.deepEqual(outcome, { type: 'sent', providerId: `M4V${p.received.length}` });
    const r = last();
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/solapi/messages/v4/send');
    assert.equal(r.headers['content-type'], 'application/json');
    const signature = createHmac('sha256', 'solapi-secret')
      .update('2026-06-01T03:00:00.000Zsalt0123456789abcdef')
      .digest('hex');
    assert.equal(
      r.headers.authorization,
      `HMAC-SHA256 apiKey=solapi-key, date=2026-06-01T03:00:00.000Z, salt=salt0123456789abcdef, signature=${signature}`,
    );
    assert.deepEqual(r.body, {
      message: {
        to: '01012345678',
        from: '0212345678',
        text: SHIPPED_TEXT,
        type: 'ATA',
        kakaoOptions: {
          pfId: 'KA01PF-sender',
          disableSms: false,
          templateId: 'SHIPPED01',
          variables: { '#{고객명}': '김하늘', '#{송장번호}': '1234-5678' },
        },
      },
    });
  });

  test('Solapi 친구톡 (CTA) and a refusal: 4xx with errorCode fails without retry; a bad signature is refused', async () => {
    assert.equal((await kakaoSender(solapi()).send(friendtalk(AD_SHORT, 'SMS'))).type, 'sent');
    assert.deepEqual(last().body, {
      message: {
        to: '01012345678',
        from: '0212345678',
        text: AD_SHORT,
        type: 'CTA',
        kakaoOptions: { pfId: 'KA01PF-sender', disableSms: false },
      },
    });
    const refused = await kakaoSender(solapi()).send(friendtalk(AD_SHORT, 'SMS', '+821000000000'));
    assert.equal(refused.type, 'failed');
    assert.match(refused.type === 'failed' ? refused.reason : '', /^HTTP 400: .*ValidationError/);
    const badKey = await kakaoSender({ ...solapi(), apiSecret: 'wrong' }).send(alimtalk());
    assert.equal(badKey.type, 'failed');
    assert.match(badKey.type === 'failed' ? badKey.reason : '', /SignatureDoesNotMatch/);
  });

  test('NHN Cloud 알림톡: templateParameter without #{}, resend as LMS; 친구톡 with isAd and SMS resend', async () => {
    assert.deepEqual(await kakaoSender(nhn()).send(alimtalk()), { type: 'sent', providerId: 'REQ-20260601-1' });
    let r = last();
    assert.equal(r.path, '/nhn/alimtalk/v2.3/appkeys/nhn-app/messages');
    assert.equal(r.headers['x-secret-key'], 'nhn-secret');
    assert.equal(r.headers['content-type'], 'application/json;charset=UTF-8');
    assert.deepEqual(r.body, {
      senderKey: 'nhn-sender',
      templateCode: 'SHIPPED01',
      recipientList: [
        {
          recipientNo: '01012345678',
          templateParameter: { 고객명: '김하늘', 송장번호: '1234-5678' },
          resendParameter: {
            isResend: true,
            resendType: 'LMS',
            resendContent: SHIPPED_TEXT,
            resendSendNo: '0212345678',
          },
        },
      ],
    });
    assert.equal((await kakaoSender(nhn()).send(friendtalk(AD_SHORT, 'SMS'))).type, 'sent');
    r = last();
    assert.equal(r.path, '/nhn/friendtalk/v2.4/appkeys/nhn-app/messages');
    assert.deepEqual(r.body, {
      senderKey: 'nhn-sender',
      recipientList: [
        {
          recipientNo: '01012345678',
          content: AD_SHORT,
          isAd: true,
          resendParameter: { isResend: true, resendType: 'SMS', resendContent: AD_SHORT, resendSendNo: '0212345678' },
        },
      ],
    });
  });

  test('NHN Cloud refuses inside a 200 answer: the header says so and the send fails', async () => {
    const outcome = await kakaoSender(nhn('unknown-sender')).send(alimtalk());
    assert.deepEqual(outcome, { type: 'failed', reason: 'NHN Cloud -1006: Invalid sender key', permanent: false });
  });

  test('generic JSON: flat body with the fallback type; 503 with Retry-After is retried', async () => {
    assert.deepEqual(await kakaoSender(generic()).send(friendtalk(AD_LONG, 'LMS')), {
      type: 'sent',
      providerId: 'gen-<f1@comeback>',
    });
    const r = last();
    assert.equal(r.headers.authorization, 'Bearer generic-token');
    assert.equal(r.headers['idempotency-key'], '<f1@comeback>');
    assert.deepEqual(r.body, {
      message_id: '<f1@comeback>',
      channel: 'kakao',
      kakao_type: 'friendtalk',
      sender_key: 'gen-sender',
      template_code: null,
      variables: {},
      is_ad: true,
      to: '01012345678',
      from: '0212345678',
      text: AD_LONG,
      fallback: { type: 'LMS', text: AD_LONG },
    });
    assert.deepEqual(await kakaoSender(generic()).send(friendtalk(AD_SHORT, 'SMS', '+821099999999')), {
      type: 'retry',
      reason: 'HTTP 503',
      afterMs: 30_000,
    });
  });

  test('a promotional 알림톡 is refused at send time, before any request leaves', async () => {
    const before = p.received.length;
    const ad = alimtalk();
    const asAd = { ...ad, payload: { ...ad.payload, kakao: { ...(ad.payload.kakao as object), isAd: true } } };
    for (const options of [solapi(), nhn(), generic()]) {
      const outcome = await kakaoSender(options).send(asAd);
      assert.equal(outcome.type, 'failed');
      assert.match(outcome.type === 'failed' ? outcome.reason : '', /^alimtalk_promotional/);
    }
    const prefixed = { ...ad, payload: { ...ad.payload, text: `(광고) ${SHIPPED_TEXT}` } };
    assert.equal((await kakaoSender(generic()).send(prefixed)).type, 'failed');
    assert.equal(p.received.length, before);
  });
});

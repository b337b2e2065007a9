import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on loopback for message providers that take a JSON POST (SMS, KakaoTalk gateways). */
export interface JsonGateway {
  /** `http://127.0.0.1:PORT`, no trailing slash: the test adds the path (`/messages`, `/kakao`). */
  url: string;
  /** Each accepted request: its path (`path`) and the fields of its JSON body. */
  received: Array<Record<string, unknown>>;
  /** Set `count` to answer that many of the next requests 503 with `Retry-After` (they are still kept). */
  failNext: { count: number; retryAfterSeconds: number };
  close(): Promise<void>;
}

/**
 * Starts a gateway that answers each accepted request `{"id": "<idPrefix><n>"}` (n counts from 1).
 * With `bearer`, a request without `Authorization: Bearer <bearer>` gets 401 and is not kept; without
 * it every request is accepted.
 */
export async function startJsonGateway({
  bearer,
  idPrefix = 'sms-',
}: {
  bearer?: string;
  idPrefix?: string;
} = {}): Promise<JsonGateway> {
  const received: Array<Record<string, unknown>> = [];
  const failNext = { count: 0, retryAfterSeconds: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      if (bearer !== undefined && req.headers.authorization !== `Bearer ${bearer}`) {
        res.writeHead(401).end('{"error":"unauthorised"}');
        return;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push({ path: req.url, ...body });
      if (failNext.count > 0) {
        failNext.count -= 1;
        res.writeHead(503, { 'retry-after': String(failNext.retryAfterSeconds) }).end('{}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: `${idPrefix}${received.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    failNext,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

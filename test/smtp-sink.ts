import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message the sink accepted, parsed with mailparser. */
export interface ReceivedMail {
  envelopeTo: string[];
  parsed: ParsedMail;
}

/** A real SMTP server on loopback that keeps what it receives, for tests and benchmarks. */
export interface SmtpSink {
  port: number;
  received: ReceivedMail[];
  /** Resolves when at least `n` messages have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the sink. `reject` answers RCPT TO for chosen addresses with an SMTP code (550 for a mailbox
 * that does not exist, 451 for a temporary failure); `delayMs` slows each message down.
 */
export async function startSmtpSink(
  options: { reject?: (to: string) => number | undefined; delayMs?: number; parse?: boolean } = {},
): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const code = options.reject?.(address.address);
      if (code) {
        const error = new Error(code >= 500 ? 'mailbox unavailable' : 'try again later') as Error & {
          responseCode: number;
        };
        error.responseCode = code;
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        const raw = Buffer.concat(chunks);
        const parsed =
          options.parse === false
            ? ({ messageId: /^message-id:\s*(.+)$/im.exec(raw.toString())?.[1]?.trim() } as ParsedMail)
            : await simpleParser(raw);
        received.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed });
        for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
        callback();
      });
    },
  });
  // A client killed mid-session (the crash tests SIGKILL their worker) resets its connection: that is
  // the client's end, not the sink's, and must not surface as an uncaught error in the test process.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    waitFor(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${n} mails, got ${received.length}`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

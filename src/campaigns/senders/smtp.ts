import nodemailer from 'nodemailer';
import type { OutgoingMessage, Sender, SendOutcome } from './sender.js';

/** Where and how to reach the SMTP server. */
export interface SmtpOptions {
  host: string;
  port: number;
  secure?: boolean;
  user?: string;
  pass?: string;
  /** Connections kept open (nodemailer's pool). */
  maxConnections?: number;
  /** Skip STARTTLS (a relay on loopback). */
  ignoreTLS?: boolean;
}

/** Reads the SMTP answer code nodemailer attaches to an error, if any. */
function responseCode(error: unknown): number | undefined {
  if (error && typeof error === 'object' && 'responseCode' in error && typeof error.responseCode === 'number') {
    return error.responseCode;
  }
  return undefined;
}

/**
 * E-mail through SMTP with nodemailer's pooled transport. The message keeps the outbox's `Message-ID`,
 * so a resend after an uncertain crash can be recognised by the receiving side. SMTP 4xx and network
 * errors are retried; 5xx fails, and 550–553 (mailbox unknown or refused) marks the address bounced.
 */
export function smtpSender(options: SmtpOptions): Sender {
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure ?? false,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: Number.POSITIVE_INFINITY,
    ...(options.ignoreTLS ? { ignoreTLS: true } : {}),
    ...(options.user ? { auth: { user: options.user, pass: options.pass ?? '' } } : {}),
  });
  return {
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      const p = message.payload;
      const from = p.from as { name: string; address: string };
      try {
        const info = await transport.sendMail({
          messageId: message.messageId,
          from: { name: from.name, address: from.address },
          to: message.to,
          subject: String(p.subject ?? ''),
          html: typeof p.html === 'string' ? p.html : undefined,
          text: String(p.text ?? ''),
          headers: (p.headers as Record<string, string> | undefined) ?? {},
        });
        return { type: 'sent', providerId: info.messageId ?? null };
      } catch (error) {
        const code = responseCode(error);
        const reason = error instanceof Error ? error.message : String(error);
        if (code !== undefined && code >= 500) return { type: 'failed', reason, permanent: code >= 550 && code <= 553 };
        return { type: 'retry', reason };
      }
    },
    close() {
      transport.close();
    },
  };
}

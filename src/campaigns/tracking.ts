import { signLink } from './links.js';

/**
 * Open and click tracking in an e-mail's HTML: every `http(s)` anchor (but the store's own hosted
 * `/m/…` pages) becomes a signed redirect `/m/c/<token>` whose token carries the target, and a 1×1
 * pixel `/m/o/<token>` is added before `</body>`. Opens and clicks are secondary attribution: the
 * lift is always measured against the hold-out, never from them.
 */
export function trackHtml(
  html: string,
  {
    publicUrl,
    secret,
    customerId,
    outboxId,
    expiresAt,
  }: { publicUrl: string; secret: string; customerId: number; outboxId: number; expiresAt: number },
): string {
  const base = publicUrl.replace(/\/$/, '');
  const own = `${base}/m/`;
  // Anchors only: the <link> stylesheets MJML puts in the head are not clicks.
  const rewritten = html.replace(/(<a\b[^>]*?\bhref=")(https?:\/\/[^"]+)"/gi, (whole, start: string, href: string) => {
    // Attribute values arrive HTML-escaped; the token carries the address itself.
    const target = href.replace(/&amp;/g, '&');
    if (target.startsWith(own)) return whole;
    const token = signLink(secret, { c: customerId, p: 'click', m: outboxId, e: expiresAt, u: target });
    return `${start}${base}/m/c/${token}"`;
  });
  const pixelToken = signLink(secret, { c: customerId, p: 'open', m: outboxId, e: expiresAt });
  const pixel = `<img src="${base}/m/o/${pixelToken}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
  return /<\/body>/i.test(rewritten) ? rewritten.replace(/<\/body>/i, `${pixel}</body>`) : `${rewritten}${pixel}`;
}

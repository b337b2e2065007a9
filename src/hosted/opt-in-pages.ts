import { html, layout, type PageLang } from './html.js';

/** Fixed texts of the double opt-in pages (storefront e-mail capture). */
export const OPT_IN_TEXT = {
  en: {
    title: 'Confirm your subscription',
    ask: (email: string) => `Press the button to receive news and offers by e-mail at ${email}.`,
    confirm: 'Yes, subscribe me',
    done: 'Subscription confirmed',
    thanks: 'Thank you! You will receive our e-mails. You can unsubscribe at any time from any of them.',
    used: 'This subscription has already been confirmed with this link. Thank you!',
  },
  ko: {
    title: '이메일 수신 동의 확인',
    ask: (email: string) => `버튼을 누르시면 ${email} 주소로 소식과 혜택을 이메일로 받으실 수 있어요.`,
    confirm: '네, 구독할게요',
    done: '구독이 확인되었습니다',
    thanks: '감사합니다! 이제 이메일을 받으실 수 있어요. 받으신 메일에서 언제든지 수신을 거부할 수 있습니다.',
    used: '이 링크로 이미 구독이 확인되었습니다. 감사합니다!',
  },
} as const;

/** The page a confirmation link opens: the address and a button that POSTs to `action` (GET changes nothing). */
export function optInPage(lang: PageLang, email: string, action: string): string {
  const t = OPT_IN_TEXT[lang];
  return layout(
    lang,
    t.title,
    html`<h1>${t.title}</h1><p>${t.ask(email)}</p><form method="post" action="${action}"><button type="submit">${t.confirm}</button></form>`,
  );
}

/** "Subscription confirmed". */
export function optInDonePage(lang: PageLang): string {
  const t = OPT_IN_TEXT[lang];
  return layout(lang, t.done, html`<h1 data-opt-in="confirmed">${t.done}</h1><p class="ok">${t.thanks}</p>`);
}

/** A confirmation link used before. */
export function optInUsedPage(lang: PageLang): string {
  return layout(lang, OPT_IN_TEXT[lang].done, html`<p class="ok" role="status">${OPT_IN_TEXT[lang].used}</p>`);
}

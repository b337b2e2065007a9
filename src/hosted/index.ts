export { escapeHtml, html, layout, type PageLang, pageLang, Raw } from './html.js';
export { messagePage, type Refusal, refusedPage, reviewPage, surveyPage, TEXT } from './survey-pages.js';

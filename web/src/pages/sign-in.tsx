import { type FormEvent, useState } from 'react';
import { ApiError, apiFetch } from '../api.js';
import { type Lang, useI18n } from '../i18n.js';

import type { Who } from '../types.js';

export type { Who };

/** The sign-in page: the local admin account, or an API key traded for a session cookie. */
export function SignInPage({ onSignedIn, onLang }: { onSignedIn: (who: Who) => void; onLang: (lang: Lang) => void }) {
  const i18n = useI18n();
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await apiFetch<Who>('/session', { method: 'POST', body: JSON.stringify({ username, password }) }));
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? i18n.t('wrongLogin') : String(e));
    } finally {
      setBusy(false);
    }
  };

  const signInWithKey = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      // The key is sent once and traded for an HttpOnly session cookie; the page does not keep it.
      onSignedIn(await apiFetch<Who>('/session', { method: 'POST', body: JSON.stringify({ key: key.trim() }) }));
      setKey('');
    } catch (e) {
      setError(e instanceof ApiError && e.status === 429 ? e.message : i18n.t('badKey'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <div className="signin-card">
        <div className="brand large">
          <span className="logo" aria-hidden="true">
            C
          </span>
          <span>{i18n.t('appName')}</span>
        </div>
        <h1>{i18n.t('signInTitle')}</h1>
        <p className="muted">{i18n.t('signInLead')}</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <form onSubmit={signIn} className="stack">
          <label className="field">
            <span>{i18n.t('username')}</span>
            <input
              name="username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              required
            />
          </label>
          <label className="field">
            <span>{i18n.t('password')}</span>
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </label>
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? i18n.t('signingIn') : i18n.t('signIn')}
          </button>
        </form>
        <div className="divider">
          <span>{i18n.t('or')}</span>
        </div>
        <form onSubmit={signInWithKey} className="stack">
          <label className="field">
            <span>{i18n.t('apiKey')}</span>
            <input
              name="apiKey"
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              required
            />
          </label>
          <button type="submit" className="button" disabled={busy}>
            {i18n.t('useKey')}
          </button>
        </form>
        <label className="field inline signin-lang">
          <span>{i18n.t('language')}</span>
          <select value={i18n.lang} onChange={(e) => onLang(e.target.value === 'ko' ? 'ko' : 'en')}>
            <option value="en">English</option>
            <option value="ko">한국어</option>
          </select>
        </label>
      </div>
    </main>
  );
}

/** Login: username, password and the authenticator's code (every role but a plain operator needs one). */
import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { saveSession, type Session } from '../session.js';

interface LoginAnswer {
  token: string;
  expiresAt: number;
  roles: string[];
  username: string;
}

export function LoginPage({ onLogin }: { onLogin: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const code = totp.replace(/\s/g, '');
      const r = await api<LoginAnswer>('POST', '/api/login', { username, password, ...(code !== '' ? { totp: code } : {}) });
      const s: Session = { token: r.token, username: r.username, roles: r.roles, expiresAt: r.expiresAt };
      saveSession(s);
      onLogin(s);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title">
        <h1 id="login-title">platesieve operations console</h1>
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <label>
          Authenticator code
          <input name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]{6,9}" placeholder="6 digits (not needed for operators without one)" value={totp} onInput={(e) => setTotp(e.currentTarget.value)} />
        </label>
        <p class="error" role="alert" data-testid="login-error">{error}</p>
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}

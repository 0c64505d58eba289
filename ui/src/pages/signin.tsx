// Sign in: the API key is exchanged for a session cookie and then forgotten (the field is
// cleared; nothing is stored in the browser).
import { useState } from 'preact/hooks';
import { explain, signIn } from '../api';
import { navigate } from '../router';
import { useTitle } from '../components/common';

export function SignIn({ next, onSignedIn }: { next: string | null; onSignedIn: () => void }) {
  useTitle('Sign in');
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!key.trim()) {
      setError(new Error('Enter an API key of admin scope (the one in SWITCHBOARD_ADMIN_KEY, or switchboard-data/admin.key).'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(key.trim());
      setKey('');
      onSignedIn();
      // Only app paths: never an absolute URL from the query string.
      const target = next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/sign-in') ? next : '/logs';
      navigate(target, true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="center">
      <form class="card signin" onSubmit={submit} noValidate>
        <h1>Sign in to Switchboard</h1>
        <p class="muted">
          Use an API key of <strong>admin</strong> scope. It is exchanged for a session and not stored in this browser.
        </p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'signin-error' : undefined}
          required
        />
        {error ? (
          <p id="signin-error" class="field-error" role="alert">
            {explain(error)}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

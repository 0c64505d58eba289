// The shell: probe the session, then the navigation and the page for the URL. Signed out (or
// on a 401 from any call) the sign-in page shows, and brings the person back where they were.
import { useEffect, useState } from 'preact/hooks';
import { currentSession, explain, loadSession, signOut, toSignIn } from './api';
import { href, navigate, onLinkClick, useLocation } from './router';
import { SignIn } from './pages/signin';
import { Logs } from './pages/logs';
import { RequestPage } from './pages/request';
import { Analytics } from './pages/analytics';
import { Configs } from './pages/configs';
import { ConfigEditor } from './pages/config_editor';
import { VirtualKeys } from './pages/virtual_keys';
import { ApiKeys } from './pages/api_keys';
import { Targets } from './pages/targets';

const NAV: [string, string][] = [
  ['/logs', 'Logs'],
  ['/analytics', 'Analytics'],
  ['/configs', 'Configs'],
  ['/virtual-keys', 'Virtual keys'],
  ['/api-keys', 'API keys'],
  ['/targets', 'Targets'],
];

type Probe = { state: 'loading' } | { state: 'ready' } | { state: 'error'; error: unknown };

export function App() {
  const loc = useLocation();
  const [probe, setProbe] = useState<Probe>({ state: 'loading' });

  const probeSession = () => {
    setProbe({ state: 'loading' });
    loadSession()
      .then((session) => {
        setProbe({ state: 'ready' });
        if (!session) toSignIn();
      })
      .catch((error) => setProbe({ state: 'error', error }));
  };
  useEffect(probeSession, []);

  if (probe.state === 'loading') {
    return (
      <main id="main" class="center">
        <p role="status">Loading Switchboard…</p>
      </main>
    );
  }
  if (probe.state === 'error') {
    return (
      <main id="main" class="center">
        <h1>Switchboard</h1>
        <div role="alert">
          <p>Could not check your session: {explain(probe.error)}</p>
          <button type="button" onClick={probeSession}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (loc.path === '/sign-in' || !currentSession()) {
    return <SignIn next={loc.query.get('next')} onSignedIn={() => setProbe({ state: 'ready' })} />;
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header path={loc.path} />
      <main id="main" tabIndex={-1}>
        <Page path={loc.path} query={loc.query} />
      </main>
    </>
  );
}

function Header({ path }: { path: string }) {
  const session = currentSession();
  const [leaving, setLeaving] = useState(false);
  const out = async () => {
    setLeaving(true);
    try {
      await signOut();
    } finally {
      setLeaving(false);
      navigate('/sign-in', true);
    }
  };
  return (
    <header class="top">
      <a class="brand" href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
        Switchboard
      </a>
      <nav aria-label="Main">
        <ul>
          {NAV.map(([to, name]) => {
            const active = path === to || path.startsWith(`${to}/`) || (to === '/logs' && path === '/');
            return (
              <li key={to}>
                <a href={href(to)} aria-current={active ? 'page' : undefined} onClick={(e) => onLinkClick(e, to)}>
                  {name}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      {session?.auth === 'session' && (
        <div class="who">
          <span class="muted">{session.principal?.name ?? 'Signed in'}</span>
          <button type="button" onClick={out} disabled={leaving}>
            Sign out
          </button>
        </div>
      )}
      {session?.auth === 'none' && <span class="badge warn">No auth (--insecure-no-auth)</span>}
    </header>
  );
}

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  if (path === '/' || path === '/logs') return <Logs query={query} />;
  let m = /^\/logs\/([^/]+)$/.exec(path);
  if (m) return <RequestPage id={decodeURIComponent(m[1])} />;
  if (path === '/analytics') return <Analytics query={query} />;
  if (path === '/configs') return <Configs />;
  if (path === '/configs/new') return <ConfigEditor slug={null} query={query} />;
  m = /^\/configs\/([^/]+)$/.exec(path);
  if (m) return <ConfigEditor slug={decodeURIComponent(m[1])} query={query} />;
  if (path === '/virtual-keys') return <VirtualKeys />;
  if (path === '/api-keys') return <ApiKeys />;
  if (path === '/targets') return <Targets />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>/ui{path}</code>.{' '}
        <a href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
          Go to the logs
        </a>
        .
      </p>
    </section>
  );
}

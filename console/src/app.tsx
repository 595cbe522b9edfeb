/**
 * The shell: the login page until there is a session, then the navigation (only the pages the
 * user's roles may open) and the current page. A page outside the user's roles is not mounted
 * at all, so it calls none of its API: the server would refuse it anyway, and the refusal would
 * be audited as an attempt.
 */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setUnauthenticatedHandler } from './api.js';
import { PAGES, allows, pagesFor, type PagePath } from './contracts.js';
import { navigate, usePath } from './router.js';
import { clearSession, loadSession, type Session } from './session.js';
import { AlertsPage } from './pages/alerts.js';
import { AuditPage } from './pages/audit.js';
import { DashboardPage } from './pages/dashboard.js';
import { HoldsPage } from './pages/holds.js';
import { LoginPage } from './pages/login.js';
import { SearchPage } from './pages/search.js';
import { SensitivePage } from './pages/sensitive.js';
import { SharingPage } from './pages/sharing.js';

const DASHBOARD = PAGES.find((p) => p.path === '/dashboard') ?? PAGES[0];

export interface PageProps {
  session: Session;
}

const COMPONENTS: Record<PagePath, ComponentType<PageProps>> = {
  '/alerts': AlertsPage,
  '/search': SearchPage,
  '/holds': HoldsPage,
  '/sharing': SharingPage,
  '/sensitive': SensitivePage,
  '/dashboard': DashboardPage,
  '/audit': AuditPage,
};

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const path = usePath();

  useEffect(() => {
    setUnauthenticatedHandler(() => setSession(null));
  }, []);

  if (session === null) {
    return (
      <LoginPage
        onLogin={(s) => {
          setSession(s);
          const allowed = pagesFor(s.roles);
          const wanted = allowed.find((p) => p.path === location.pathname);
          navigate((wanted ?? allowed[0] ?? DASHBOARD).path, true);
        }}
      />
    );
  }

  const pages = pagesFor(session.roles);
  const page = PAGES.find((p) => p.path === path);
  if (page === undefined) {
    const home = pages[0]?.path ?? '/dashboard';
    queueMicrotask(() => navigate(home, true));
    return null;
  }
  const Page = COMPONENTS[page.path];
  const logout = async (): Promise<void> => {
    try {
      await api('POST', '/api/logout');
    } catch {
      // The session may already be gone; the token is dropped here either way.
    }
    clearSession();
    setSession(null);
  };

  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">platesieve</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <a
                  href={p.path}
                  aria-current={p.path === path ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(p.path);
                  }}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-testid="who">
          {session.username} <small>({session.roles.join(', ')})</small>
        </span>
        <button type="button" class="secondary" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {allows(session.roles, page.roles) ? (
          <Page session={session} />
        ) : (
          <section class="refused" role="alert" data-testid="refused">
            <h1>{page.title}</h1>
            <p>Not permitted for your role ({session.roles.join(', ')}). This page needs {page.roles.join(' or ')}.</p>
          </section>
        )}
      </main>
    </div>
  );
}

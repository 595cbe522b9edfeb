/**
 * The logged-in session, kept in sessionStorage: it ends with the tab, so a shared
 * workstation does not hand the next person a live token, yet a reload keeps the user in.
 */
export interface Session {
  token: string;
  username: string;
  roles: string[];
  expiresAt: number;
}

const KEY = 'platesieve.session';

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (raw === null) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.username !== 'string' || !Array.isArray(s.roles)) return null;
    return { token: s.token, username: s.username, roles: s.roles.filter((r): r is string => typeof r === 'string'), expiresAt: typeof s.expiresAt === 'number' ? s.expiresAt : 0 };
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

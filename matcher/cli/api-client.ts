/**
 * The CLI's side of the operations API (docs/ops.md "The command line"): the session file that
 * `platesieve login` writes, and requests with its token. Commands that read or change data
 * go through the API when a session exists or `--api URL` is given; with `--db` (or the bucket
 * directly) they are a person's direct access, for admins, and audited as such.
 *
 * The session file is `$XDG_CONFIG_HOME/platesieve/session.json` (else
 * `~/.config/platesieve/session.json`), mode 0600 in a 0700 directory: the token is a
 * password for as long as the session lasts.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PlatesieveError } from '../errors.js';
import { UsageError } from './errors.js';

/** What `platesieve login` keeps. */
export interface SavedSession {
  /** Base URL of the API (`https://ops.example:8443`). */
  api: string;
  token: string;
  /** Epoch ms (as of login; an idle session may end sooner). */
  expiresAt: number;
  user: string;
}

/** Where the session file lives. */
export function sessionPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'platesieve', 'session.json');
}

/** The saved session, or undefined when there is none (or it cannot be read as one). */
export function readSession(env: NodeJS.ProcessEnv = process.env): SavedSession | undefined {
  let text: string;
  try {
    text = readFileSync(sessionPath(env), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<SavedSession>;
    if (typeof s.api !== 'string' || typeof s.token !== 'string' || typeof s.user !== 'string' || typeof s.expiresAt !== 'number') return undefined;
    return { api: s.api, token: s.token, user: s.user, expiresAt: s.expiresAt };
  } catch {
    return undefined;
  }
}

/** Writes the session file (0600); returns its path. */
export function writeSession(session: SavedSession, env: NodeJS.ProcessEnv = process.env): string {
  const path = sessionPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(session)}\n`, { mode: 0o600 });
  // writeFileSync keeps the mode of a file that already exists: set it again.
  chmodSync(path, 0o600);
  return path;
}

/** Removes the session file, if any. */
export function removeSession(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(sessionPath(env), { force: true });
}

/** The API refused a request: `code` is its stable error code (`ERR_PURPOSE_REFUSED`, ...). */
export class ApiError extends PlatesieveError {
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** Normalizes a base URL: no trailing slash; http(s) only. */
export function apiBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--api ${JSON.stringify(url)}: expected a URL such as https://ops.example:8443`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--api ${JSON.stringify(url)}: expected an http:// or https:// URL`);
  return u.toString().replace(/\/+$/, '');
}

/** Requests to the API, with the session's token when there is one. */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token?: string,
    /** Who the session belongs to (for messages). */
    readonly user?: string,
  ) {}

  /** Sends `body` as JSON; resolves with the JSON answer, rejects with {@link ApiError}. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new ApiError('ERR_API_UNREACHABLE', 0, `cannot reach the operations API at ${this.base}: ${cause}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: unknown; message?: unknown };
      const code = typeof e.error === 'string' ? e.error : `HTTP_${res.status}`;
      let message = typeof e.message === 'string' ? e.message : `${method} ${path}: HTTP ${res.status}`;
      if (code === 'ERR_SESSION_EXPIRED' || code === 'ERR_SESSION_INVALID' || code === 'ERR_UNAUTHENTICATED') message = `${message} (log in again: platesieve login --api ${this.base})`;
      throw new ApiError(code, res.status, message);
    }
    return json as T;
  }
}

/**
 * The API client a data command uses, or undefined for direct access. `--db` means direct
 * access; `--api URL` needs a session with that API; otherwise a saved session is used.
 */
export function apiClientFor(opts: { api?: string; db?: string }, env: NodeJS.ProcessEnv = process.env): ApiClient | undefined {
  if (opts.db !== undefined) {
    if (opts.api !== undefined) throw new UsageError('give --api or --db, not both');
    return undefined;
  }
  const saved = readSession(env);
  if (opts.api !== undefined) {
    const base = apiBase(opts.api);
    if (saved === undefined || apiBase(saved.api) !== base) throw new UsageError(`not logged in to ${base}: run platesieve login --api ${base}`);
    return new ApiClient(base, saved.token, saved.user);
  }
  return saved === undefined ? undefined : new ApiClient(apiBase(saved.api), saved.token, saved.user);
}

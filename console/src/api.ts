/**
 * The operations API from the browser: JSON in and out, the session's Bearer token on every
 * call, errors as {@link ApiError} with the server's stable code. A 401 means the session is
 * gone (expired, idle, logged out elsewhere): the app is told so it can show the login.
 */
import { clearSession, loadSession } from './session.js';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: Record<string, unknown>;
  constructor(status: number, code: string, message: string, body: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

let onUnauthenticated: () => void = () => undefined;

/** Called when a request answers 401 (the app returns to the login page). */
export function setUnauthenticatedHandler(f: () => void): void {
  onUnauthenticated = f;
}

/** The session is over (401): drop the token and show the login. */
export function sessionEnded(): void {
  clearSession();
  onUnauthenticated();
}

export function authHeaders(): Record<string, string> {
  const s = loadSession();
  return s === null ? {} : { authorization: `Bearer ${s.token}` };
}

async function failure(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const code = typeof body.error === 'string' ? body.error : `HTTP_${res.status}`;
  const message = typeof body.message === 'string' ? body.message : res.statusText;
  // A refused login is 401 too, but there is no session to end then.
  if (res.status === 401 && !code.startsWith('ERR_AUTH')) sessionEnded();
  return new ApiError(res.status, code, message, body);
}

/** Sends a request; resolves with the parsed JSON body. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** A request whose answer is a file: the bytes and the response headers. */
export async function apiBlob(path: string): Promise<{ blob: Blob; headers: Headers }> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw await failure(res);
  return { blob: await res.blob(), headers: res.headers };
}

/** A query string of the defined values. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** One line for a person: the server's message, with its code. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

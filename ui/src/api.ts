// The one place that talks to the gateway. Every call is a same-origin fetch with the session
// cookie; writes carry the CSRF token the session handed out. A 401 anywhere sends the browser
// to the sign-in page, remembering where it was going. The API key itself is never kept: it is
// sent once to POST /ui/api/session and forgotten.
import { navigate } from './router';

export interface Session {
  auth: 'session' | 'none';
  csrf_token?: string;
  expires_at?: number;
  principal?: { id: string; name: string };
}

let session: Session | null = null;

export function currentSession(): Session | null {
  return session;
}

/** An error from the gateway, with its OpenAI-shaped message and code. */
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public code: string | null = null,
    public type: string | null = null,
  ) {
    super(message);
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  let code: string | null = null;
  let type: string | null = null;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    code = body?.error?.code ?? null;
    type = body?.error?.type ?? null;
  } catch {
    // Not JSON: the status line says what there is.
  }
  return new ApiError(response.status, message, code, type);
}

/** Where to come back to after signing in. */
function here(): string {
  const path = window.location.pathname.replace(/^\/ui/, '') || '/';
  return path + window.location.search;
}

export function toSignIn(): void {
  session = null;
  const next = here();
  if (next.startsWith('/sign-in')) return;
  navigate(`/sign-in?next=${encodeURIComponent(next)}`, true);
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Don't send the browser to sign-in on a 401 (the session probe and the sign-in itself). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && session?.csrf_token) headers['x-csrf-token'] = session.csrf_token;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Could not reach the gateway. Check that it is running, then try again.');
  }
  if (response.status === 401 && !options.quiet401) {
    toSignIn();
    throw await errorFrom(response);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>(path, { signal });
export const post = <T>(path: string, body: unknown) => request<T>(path, { method: 'POST', body });
export const put = <T>(path: string, body: unknown) => request<T>(path, { method: 'PUT', body });
export const del = <T>(path: string) => request<T>(path, { method: 'DELETE' });

/** The session at start-up: signed in, not needed (`--insecure-no-auth`), or null (sign in). */
export async function loadSession(): Promise<Session | null> {
  try {
    session = await request<Session>('/ui/api/session', { quiet401: true });
    return session;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      session = null;
      return null;
    }
    throw err;
  }
}

export async function signIn(apiKey: string): Promise<Session> {
  session = await request<Session>('/ui/api/session', { method: 'POST', body: { api_key: apiKey }, quiet401: true });
  return session;
}

export async function signOut(): Promise<void> {
  try {
    await request<void>('/ui/api/session', { method: 'DELETE', quiet401: true });
  } finally {
    session = null;
  }
}

/** A message that tells the person what to do about an error. */
export function explain(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'csrf_failed') return `${err.message} Reload the page and try again.`;
    if (err.status === 403) return `${err.message} Sign in with an API key of admin scope.`;
    return err.message;
  }
  return (err as Error)?.message ?? String(err);
}

// A small history-API router: the current URL as a hook, `navigate` to move, `Link` clicks
// handled without a page load. Paths are app paths under the base (`/ui`).
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';

export interface Location {
  /** The path below the base, always starting with '/': '/logs/abc'. */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  let path = window.location.pathname;
  if (path.startsWith(BASE)) path = path.slice(BASE.length);
  if (path === '') path = '/';
  return { path, query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Goes to an app path ('/logs?trace_id=x'); `replace` keeps the history entry count. */
export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (url === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((l) => l());
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return loc;
}

/** The href for an app path. */
export function href(to: string): string {
  return BASE + to;
}

/** A click on an app link that should stay in the app (not a new tab, not a modified click). */
export function onLinkClick(event: MouseEvent, to: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  navigate(to);
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export function queryString(params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

// The dashboard's static files under /ui: a fixed list (nothing else in this folder is reachable, so no
// path ever touches the file system), read once and kept in memory with a content hash as ETag. The page
// is public-static; everything it shows comes from GET /admin/dashboard, which needs the admin token.

const TYPES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['chart.js', 'text/javascript; charset=utf-8'],
  ['tables.js', 'text/javascript; charset=utf-8'],
  ['format.js', 'text/javascript; charset=utf-8'],
  ['style.css', 'text/css; charset=utf-8'],
]);

/** Same-origin only: no inline script, no framing, no third-party anything. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

interface Asset {
  readonly body: Buffer;
  readonly etag: string;
  readonly type: string;
}

const assets = new Map<string, Asset>();

function asset(name: string, type: string): Asset {
  let a = assets.get(name);
  if (a === undefined) {
    const body = readFileSync(new URL(name, import.meta.url));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    a = { body, etag, type };
    assets.set(name, a);
  }
  return a;
}

/**
 * Serves GET/HEAD /ui, /ui/ and /ui/<file>. Returns false (nothing written) for any other path, method or
 * unknown file, so the caller answers with its own 404.
 */
export function serveUi(req: IncomingMessage, res: ServerResponse, path: string): boolean {
  if (path !== '/ui' && !path.startsWith('/ui/')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const name = path === '/ui' || path === '/ui/' ? 'index.html' : path.slice(4);
  const type = TYPES.get(name);
  if (type === undefined) return false;
  const a = asset(name, type);
  // Revalidate every time (an upgrade changes the files); a matching ETag costs one empty 304.
  const headers = { ...SECURITY_HEADERS, 'cache-control': 'no-cache', etag: a.etag };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-type': a.type, 'content-length': a.body.length });
  res.end(req.method === 'HEAD' ? undefined : a.body);
  return true;
}

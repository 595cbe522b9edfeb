/**
 * Serving the browser console (docs/ops.md "The console"): the built single-page app in
 * `dist/console` (index.html and hashed `assets/`), at `/`, with every client-side route
 * (`/alerts`, `/search`, ...) answered with index.html too. The pages are public: they hold no
 * data, and the app logs in itself through the API. Every console response carries a strict
 * Content-Security-Policy: the app loads nothing from anywhere but this server (no CDN, so it
 * works on a closed network), and cannot be framed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { OpsError } from './errors.js';

/** Where the console is served from; `false`: not served. */
export type ConsoleOption = { root?: string } | false;

/** The Content-Security-Policy of console responses. */
export const CONSOLE_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

/** Paths the console never answers: the API and the operations endpoints keep their own 404. */
const NOT_CONSOLE = /^\/(api(\/|$)|healthz$|metrics$|openapi\.json$)/;
/** A file at the top of the build (favicon.svg, robots.txt): served as is, not as a route. */
const TOP_FILE = /^\/([\w-][\w.-]*\.[A-Za-z0-9]+)$/;

/**
 * The built console of the installed package: from `dist/matcher/ops/console.js` it is
 * `dist/console`; from the sources (`matcher/ops/console.ts`, tests and tsx) the same build.
 */
export function defaultConsoleRoot(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/console' : '../../console', import.meta.url));
}

function securityHeaders(reply: FastifyReply): void {
  void reply.header('content-security-policy', CONSOLE_CSP);
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('x-frame-options', 'DENY');
}

/**
 * Registers the console's routes on `app` (call before `ready()`). Returns the root served, or
 * undefined when the console is off or not built (then `/` answers 404 saying so).
 */
export async function registerConsole(app: FastifyInstance, option: ConsoleOption | undefined): Promise<string | undefined> {
  if (option === false) return undefined;
  const root = option?.root ?? defaultConsoleRoot();
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'browser console not built: / answers 404 (the API is unaffected)');
    app.get('/', { schema: { hide: true } }, () => Promise.reject(new OpsError('ERR_NOT_FOUND', `the browser console is not built (no index.html in ${root}): run \`npm run build\` or set ops.console: false`)));
    return undefined;
  }

  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      securityHeaders(reply);
      return payload;
    });
    // Asset names carry a content hash: a changed file is a new name, so they may be cached for good.
    await scope.register(fastifyStatic, {
      root: join(root, 'assets'),
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
      serveDotFiles: false,
    });
    // index.html is revalidated every time, so a new release is picked up at the next load.
    const index = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
    scope.get('/', { schema: { hide: true } }, async (_request, reply) => index(reply));
    scope.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const path = request.url.split('?')[0];
      if (NOT_CONSOLE.test(path)) throw new OpsError('ERR_NOT_FOUND', `no route ${request.method} ${path}`);
      const top = TOP_FILE.exec(path);
      if (top !== null && existsSync(join(root, top[1]))) return reply.header('cache-control', 'no-cache').sendFile(top[1], root, { cacheControl: false });
      // Any other path is a route of the app (/alerts, /search): it renders it from the URL.
      return index(reply);
    });
  });
  return root;
}

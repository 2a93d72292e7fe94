import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../errors.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The demo help page and the widget bundle. Files are read once, at first request. */
export interface StaticRoutesDeps {
  publicDir: string;
  widgetBundlePath: string;
  consoleBundlePath: string;
  brand: string;
}

/** A file read once, at first request; a failed read is retried next time. */
export function cached<T>(load: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= load().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

/** An HTML page with `{brand}` filled in, read once. */
export function brandedPage(file: string, brand: string) {
  return cached(() => readFile(file, 'utf8').then((html) => html.replaceAll('{brand}', escapeHtml(brand))));
}

/** A built bundle, read once; NOT_FOUND with a hint when it was not built. */
export function builtBundle(file: string) {
  return cached(() =>
    readFile(file).catch((error: unknown) => {
      throw new AppError('NOT_FOUND', 'The bundle is not built; run `npm run build`.', { cause: error });
    }),
  );
}

/** The demo help page, the agent console page and their bundles. */
export function registerStaticRoutes(app: FastifyInstance, deps: StaticRoutesDeps): void {
  const helpPage = brandedPage(path.join(deps.publicDir, 'index.html'), deps.brand);
  const consolePage = brandedPage(path.join(deps.publicDir, 'console.html'), deps.brand);
  const widget = builtBundle(deps.widgetBundlePath);
  const consoleScript = builtBundle(deps.consoleBundlePath);
  const script = (load: () => Promise<Buffer>) => async (_request: unknown, reply: FastifyReply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await load());

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(await helpPage()));
  app.get('/console', async (_request, reply) => reply.type('text/html; charset=utf-8').send(await consolePage()));
  app.get('/widget.js', script(widget));
  app.get('/console.js', script(consoleScript));
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The demo help page and the widget bundle. Files are read once, at first request. */
export function registerStaticRoutes(app: FastifyInstance, deps: { publicDir: string; widgetBundlePath: string; brand: string }): void {
  let page: Promise<string> | undefined;
  let bundle: Promise<Buffer> | undefined;

  app.get('/', async (_request, reply) => {
    page ??= readFile(path.join(deps.publicDir, 'index.html'), 'utf8').then((html) => html.replaceAll('{brand}', escapeHtml(deps.brand)));
    return reply.type('text/html; charset=utf-8').send(await page);
  });

  app.get('/widget.js', async (_request, reply) => {
    bundle ??= readFile(deps.widgetBundlePath).catch((error: unknown) => {
      bundle = undefined;
      throw new AppError('NOT_FOUND', 'The widget bundle is not built; run `npm run build`.', { cause: error });
    });
    return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await bundle);
  });
}

import type { FastifyInstance } from 'fastify';

/**
 * Pages of our own (console, dashboard, demo page) get a strict policy: scripts from this origin
 * only, no framing. The widget bundle itself sets nothing: it runs on the host page under the
 * host's policy (docs/security.md says what that policy must allow).
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // the pages keep their CSS in one inline <style>; no inline script is allowed
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      if (!reply.getHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
      reply.header('x-frame-options', 'DENY');
      reply.header('cross-origin-opener-policy', 'same-origin');
    }
    if (type.startsWith('application/json')) reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
    return payload;
  });
}

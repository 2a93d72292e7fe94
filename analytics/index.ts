import { createSessionApi } from '../console/session-api.js';
import { AnalyticsApp } from './app.js';

/**
 * The analyst dashboard page (/analytics): mounts into #app; the brand comes from the page
 * (<body data-brand>), which the server fills in. Same origin; the session is an HttpOnly cookie.
 */
function mount(): void {
  const root = document.getElementById('app');
  if (!root) return;
  void new AnalyticsApp({ root, brand: document.body.dataset.brand || 'Support', session: createSessionApi() }).start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount, { once: true });
else mount();

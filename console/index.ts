import { readChosenStatus } from './chosen-status.js';
import { io } from 'socket.io-client';
import { AGENT_NAMESPACE } from '../server/transport/agent-protocol.js';
import { ConsoleApp } from './console-app.js';
import { createSessionApi } from './session-api.js';

/**
 * The agent console page (/console): mounts into #app; the brand comes from the page
 * (<body data-brand>), which the server fills in. Same origin for HTTP and socket.io.
 */
function mount(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const app = new ConsoleApp({
    root,
    brand: document.body.dataset.brand || 'Support',
    session: createSessionApi(),
    openSocket: () =>
      io(AGENT_NAMESPACE, {
        withCredentials: true,
        transports: ['websocket'],
        autoConnect: false,
        // Every (re)connection starts in the status the agent last chose, so an agent who is away is not assigned chats on reconnect.
        auth: (send) => send({ status: readChosenStatus() }),
      }),
  });
  void app.start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount, { once: true });
else mount();

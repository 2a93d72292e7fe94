import { createServer, type Server as HttpServer } from 'node:http';

/**
 * The one owner of the HTTP `upgrade` event. socket.io (created with destroyUpgrade: false)
 * handles its own path on the real server; every other upgrade goes to @fastify/websocket,
 * which listens on a server of its own that never listens, so it cannot destroy socket.io's.
 */
export function createUpgradeRouter(realServer: HttpServer, socketIoPath: string): HttpServer {
  const widgetUpgrades = createServer();
  realServer.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith(socketIoPath)) return; // socket.io's own listener takes it
    widgetUpgrades.emit('upgrade', request, socket, head);
  });
  return widgetUpgrades;
}

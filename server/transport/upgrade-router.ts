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
    if (request.headers['sec-websocket-version'] !== '13' || !request.headers['sec-websocket-key']) {
      // What ws would refuse in plain text, refused in the catalogue's shape.
      const body = JSON.stringify({ statusCode: 400, code: 'VALIDATION_FAILED', error: 'Bad Request', message: 'A WebSocket upgrade needs Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key.' });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    widgetUpgrades.emit('upgrade', request, socket, head);
  });
  return widgetUpgrades;
}

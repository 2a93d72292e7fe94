import type { PresenceStatus } from '../server/transport/agent-protocol.js';

const KEY = 'agent-console:status';

/** The presence the agent last chose in this tab (sent with every socket handshake). */
export function readChosenStatus(): PresenceStatus {
  try {
    const value = sessionStorage.getItem(KEY);
    return value === 'away' || value === 'offline' ? value : 'online';
  } catch {
    return 'online';
  }
}

export function saveChosenStatus(status: PresenceStatus): void {
  try {
    sessionStorage.setItem(KEY, status);
  } catch {
    // storage unavailable: the next connection starts online
  }
}

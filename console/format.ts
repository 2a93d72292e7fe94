/** Small pure helpers for what the views display. */
import { parseMarkdown, type Inline } from '../widget/markdown.js';
import { REASONS } from './labels.js';

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function formatWait(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function formatConfidence(confidence: number): string {
  return `${Math.round(Math.min(1, Math.max(0, confidence)) * 100)}%`;
}

export function reasonLabel(reason: string): string {
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

/** The last characters of a conversation id, enough to tell chats apart. */
export function shortId(conversationId: string): string {
  return '#' + conversationId.replace(/^conv_/, '').slice(-5);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** Intent ids as the protocol accepts them for a resolution. */
export const INTENT_ID = /^[a-z]+\.[a-z_]+$/;

export function sinceMs(iso: string, now: number): number {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? 0 : now - at;
}

function plainInlines(inlines: Inline[]): string {
  return inlines.map((inline) => (inline.kind === 'link' ? `${inline.text} (${inline.href})` : inline.text)).join('');
}

/**
 * A bot answer (safe Markdown) as the plain text an agent sends: agents' messages are shown
 * to listeners as text, so bold markers go and links keep their address.
 */
export function markdownToPlain(source: string): string {
  return parseMarkdown(source)
    .map((block) =>
      block.kind === 'p' ? plainInlines(block.inlines) : block.items.map((item, i) => `${block.kind === 'ol' ? `${i + 1}.` : '-'} ${plainInlines(item)}`).join('\n'),
    )
    .join('\n\n');
}

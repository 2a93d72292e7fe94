/** What the fuzzer found: deduplicated by kind and signature, each with one reproducer. */

export type FindingKind =
  | 'crash'
  | 'unhandled-rejection'
  | 'server-error-log'
  | 'non-protocol-frame'
  | 'internal-error'
  | 'undocumented-error-code'
  | 'unresponsive'
  | 'undocumented-close'
  | 'abnormal-close'
  | 'limiter'
  | 'socketio-handshake'
  | 'socketio-ack'
  | 'socketio-push'
  | 'http-5xx'
  | 'http-error-shape'
  | 'memory'
  | 'final-check';

export interface Finding {
  kind: FindingKind;
  /** What went wrong, in one line. */
  detail: string;
  /** The inputs that produced it (the transport and the frames or request, in order). */
  reproducer: string;
  /** How many times this kind+signature was seen. */
  count: number;
}

const MAX_LISTED = 60;

export class Findings {
  private readonly bySignature = new Map<string, Finding>();
  /** Expected behaviour worth a line in the report but not a finding (e.g. RFC-mandated closes). */
  readonly notes = new Map<string, number>();
  total = 0;

  /** Records a finding; `signature` groups repeats (defaults to kind + detail). */
  add(kind: FindingKind, detail: string, reproducer: string, signature = `${kind}|${detail}`): void {
    this.total++;
    const existing = this.bySignature.get(signature);
    if (existing) {
      existing.count++;
      return;
    }
    if (this.bySignature.size >= MAX_LISTED) return;
    this.bySignature.set(signature, { kind, detail: clip(detail, 400), reproducer: clip(reproducer, 2000), count: 1 });
  }

  note(text: string): void {
    this.notes.set(text, (this.notes.get(text) ?? 0) + 1);
  }

  list(): Finding[] {
    return [...this.bySignature.values()];
  }

  /** Distinct findings (the figure the exit code and the JSON line use). */
  get count(): number {
    return this.bySignature.size;
  }
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

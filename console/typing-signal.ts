/**
 * The agent's typing indicator for one chat: `true` on the first keystroke, `false` after
 * `idleMs` without input or at once on send (or when the agent switches chats).
 */
export class TypingSignal {
  private active = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly emit: (active: boolean) => void,
    private readonly idleMs = 3000,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  input(): void {
    if (!this.active) {
      this.active = true;
      this.emit(true);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), this.idleMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.active) return;
    this.active = false;
    this.emit(false);
  }
}

import type { AgentRequest } from '../server/transport/agent-protocol.js';
import type { WireLanguage } from '../server/transport/protocol.js';
import { button, el } from './dom.js';
import { INTENT_ID } from './format.js';
import { L } from './labels.js';

export type Resolution = AgentRequest<'chat.close'>['resolution'];
export type TransferTarget = AgentRequest<'chat.transfer'>['to'];
/** Carries out the dialog's choice; answers null when done or the sentence to show. */
export type Submit<T> = (value: T) => Promise<string | null>;

let counter = 0;

/**
 * A native modal <dialog> (focus moves in and is kept there; Escape cancels) with a form, an
 * error line and Cancel / Confirm. Subclasses build the fields and read the value.
 */
abstract class FormDialog<T> {
  readonly element: HTMLDialogElement;
  protected readonly form: HTMLFormElement;
  protected readonly error: HTMLElement;
  protected readonly confirmButton: HTMLButtonElement;
  private submit: Submit<T> | null = null;
  private returnFocus: HTMLElement | null = null;

  constructor(name: string, title: string, fields: (Node | null)[]) {
    const titleId = `${name}-title-${++counter}`;
    this.error = el('p', { class: 'error', role: 'alert', 'data-testid': `${name}-error`, hidden: '' });
    this.confirmButton = el('button', { type: 'submit', class: 'primary', 'data-testid': `${name}-confirm` }, L.confirm);
    this.form = el(
      'form',
      { method: 'dialog', novalidate: '' },
      el('h2', { id: titleId }, title),
      ...fields,
      this.error,
      el('div', { class: 'dialog-buttons' }, button(L.cancel, { 'data-testid': `${name}-cancel` }, () => this.element.close()), this.confirmButton),
    );
    this.element = el('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': `${name}-dialog` }, this.form);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.confirm();
    });
    this.form.addEventListener('change', () => this.showError(null));
    this.element.addEventListener('close', () => {
      this.submit = null;
      this.returnFocus?.focus();
      this.returnFocus = null;
    });
  }

  protected openWith(submit: Submit<T>): void {
    this.submit = submit;
    this.returnFocus = document.activeElement as HTMLElement | null;
    this.showError(null);
    this.confirmButton.disabled = false;
    this.element.showModal();
  }

  protected abstract read(): { value: T } | { problem: string };

  protected showError(text: string | null): void {
    this.error.hidden = text === null;
    this.error.textContent = text ?? '';
  }

  private async confirm(): Promise<void> {
    const submit = this.submit;
    if (!submit) return;
    const read = this.read();
    if ('problem' in read) return this.showError(read.problem);
    this.confirmButton.disabled = true;
    try {
      const problem = await submit(read.value);
      if (problem) this.showError(problem);
      else this.element.close();
    } finally {
      this.confirmButton.disabled = false;
    }
  }
}

function radio(name: string, value: string, label: string, testid: string): { input: HTMLInputElement; label: HTMLLabelElement } {
  const input = el('input', { type: 'radio', name, value, 'data-testid': testid });
  return { input, label: el('label', { class: 'choice' }, input, ` ${label}`) };
}

/** "Resolved?" yes/no, the intent (prefilled with the bot's guess; pick one or type one), an optional note. */
export class CloseDialog extends FormDialog<Resolution> {
  private readonly yes: HTMLInputElement;
  private readonly no: HTMLInputElement;
  private readonly intent: HTMLInputElement;
  private readonly intents: HTMLDataListElement;
  private readonly note: HTMLTextAreaElement;

  constructor() {
    const yes = radio('resolved', 'yes', L.yes, 'close-resolved-yes');
    const no = radio('resolved', 'no', L.no, 'close-resolved-no');
    const listId = `close-intents-${++counter}`;
    const intentId = `close-intent-${counter}`;
    const noteId = `close-note-${counter}`;
    const intents = el('datalist', { id: listId });
    const intent = el('input', {
      id: intentId,
      type: 'text',
      list: listId,
      autocomplete: 'off',
      spellcheck: 'false',
      pattern: INTENT_ID.source,
      'aria-describedby': `${intentId}-hint`,
      'data-testid': 'close-intent',
    });
    const note = el('textarea', { id: noteId, rows: '3', maxlength: '1000', 'data-testid': 'close-note' });
    super('close', L.closeTitle, [
      el('fieldset', { class: 'choices' }, el('legend', {}, L.resolvedQuestion), yes.label, no.label),
      el('label', { for: intentId }, L.closeIntent),
      intent,
      intents,
      el('p', { id: `${intentId}-hint`, class: 'hint' }, L.closeIntentHint),
      el('label', { for: noteId }, L.closeNote),
      note,
    ]);
    this.yes = yes.input;
    this.no = no.input;
    this.intent = intent;
    this.intents = intents;
    this.note = note;
  }

  open(prefill: { intent: string | null; intents: { id: string; label: string }[] }, submit: Submit<Resolution>): void {
    this.yes.checked = false;
    this.no.checked = false;
    this.intent.value = prefill.intent ?? '';
    this.note.value = '';
    this.intents.replaceChildren(...prefill.intents.map((option) => el('option', { value: option.id }, option.label)));
    this.openWith(submit);
    this.yes.focus();
  }

  protected read(): { value: Resolution } | { problem: string } {
    if (!this.yes.checked && !this.no.checked) {
      this.yes.focus();
      return { problem: L.closeChooseResolved };
    }
    const intent = this.intent.value.trim();
    if (intent && !INTENT_ID.test(intent)) {
      this.intent.focus();
      return { problem: L.closeInvalidIntent };
    }
    const note = this.note.value.trim();
    return { value: { resolved: this.yes.checked, intent: intent || null, ...(note ? { note } : {}) } };
  }
}

/** To the English or Spanish queue, or straight to one agent by id. */
export class TransferDialog extends FormDialog<TransferTarget> {
  private readonly choices: Record<'en' | 'es' | 'agent', HTMLInputElement>;
  private readonly agentId: HTMLInputElement;

  constructor() {
    const en = radio('transfer-to', 'en', L.transferToQueue('en'), 'transfer-queue-en');
    const es = radio('transfer-to', 'es', L.transferToQueue('es'), 'transfer-queue-es');
    const agent = radio('transfer-to', 'agent', L.transferToAgent, 'transfer-agent');
    const agentInputId = `transfer-agent-id-${++counter}`;
    const agentId = el('input', { id: agentInputId, type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'transfer-agent-id' });
    super('transfer', L.transferTitle, [
      el('fieldset', { class: 'choices' }, el('legend', {}, L.transferTitle), en.label, es.label, agent.label),
      el('label', { for: agentInputId }, L.transferAgentId),
      agentId,
    ]);
    this.choices = { en: en.input, es: es.input, agent: agent.input };
    this.agentId = agentId;
    agentId.addEventListener('input', () => {
      if (agentId.value.trim()) this.choices.agent.checked = true;
    });
  }

  open(current: WireLanguage, submit: Submit<TransferTarget>): void {
    const other = current === 'en' ? 'es' : 'en';
    this.choices[other].checked = true;
    this.agentId.value = '';
    this.openWith(submit);
    this.choices[other].focus();
  }

  protected read(): { value: TransferTarget } | { problem: string } {
    if (this.choices.agent.checked) {
      const agentId = this.agentId.value.trim();
      if (!agentId) {
        this.agentId.focus();
        return { problem: L.transferNeedAgent };
      }
      return { value: { agentId } };
    }
    return { value: { queue: this.choices.es.checked ? 'es' : 'en' } };
  }
}

/** A yes/no question (used before handing a chat back to the bot). */
export class ConfirmDialog extends FormDialog<true> {
  private readonly question: HTMLElement;

  constructor(name: string, title: string) {
    const question = el('p', { class: 'question' });
    super(name, title, [question]);
    this.question = question;
  }

  open(question: string, submit: Submit<true>): void {
    this.question.textContent = question;
    this.openWith(submit);
    this.confirmButton.focus();
  }

  protected read(): { value: true } {
    return { value: true };
  }
}

import { el } from './dom.js';
import { L } from './labels.js';

/** The sign-in form. `submit` answers null on success or the sentence to show. */
export class SignInView {
  readonly element: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly email: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly error: HTMLElement;
  private readonly submitButton: HTMLButtonElement;

  constructor(brand: string, submit: (email: string, password: string) => Promise<string | null>) {
    this.email = el('input', { id: 'signin-email', type: 'email', name: 'email', autocomplete: 'username', required: '', 'data-testid': 'signin-email' });
    this.password = el('input', { id: 'signin-password', type: 'password', name: 'password', autocomplete: 'current-password', required: '', 'data-testid': 'signin-password' });
    this.error = el('p', { id: 'signin-error', class: 'error', role: 'alert', 'data-testid': 'signin-error', hidden: '' });
    this.submitButton = el('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, L.signIn);
    this.form = el(
      'form',
      { class: 'signin', 'aria-labelledby': 'signin-title', novalidate: '' },
      el('h1', { id: 'signin-title' }, `${brand} · ${L.consoleTitle}`),
      el('h2', {}, L.signInTitle),
      el('label', { for: 'signin-email' }, L.email),
      this.email,
      el('label', { for: 'signin-password' }, L.password),
      this.password,
      this.error,
      this.submitButton,
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.onSubmit(submit);
    });
    this.element = el('main', { class: 'signin-page' }, this.form);
  }

  private async onSubmit(submit: (email: string, password: string) => Promise<string | null>): Promise<void> {
    const email = this.email.value.trim();
    const password = this.password.value;
    if (!email || !password) {
      this.showError(L.missingFields);
      (email ? this.password : this.email).focus();
      return;
    }
    this.submitButton.disabled = true;
    this.submitButton.textContent = L.signingIn;
    this.hideError();
    try {
      const problem = await submit(email, password);
      if (problem) {
        this.showError(problem);
        this.password.value = '';
        this.password.focus();
      }
    } finally {
      this.submitButton.disabled = false;
      this.submitButton.textContent = L.signIn;
    }
  }

  showError(text: string): void {
    this.error.textContent = text;
    this.error.hidden = false;
    this.email.setAttribute('aria-describedby', 'signin-error');
    this.password.setAttribute('aria-invalid', 'true');
  }

  hideError(): void {
    this.error.hidden = true;
    this.error.textContent = '';
    this.email.removeAttribute('aria-describedby');
    this.password.removeAttribute('aria-invalid');
  }

  reset(message?: string): void {
    this.password.value = '';
    if (message) this.showError(message);
    else this.hideError();
  }

  focus(): void {
    (this.email.value ? this.password : this.email).focus();
  }
}

import { el } from '../console/dom.js';
import { L } from './labels.js';

/** The sign-in form (posts to POST /api/session through `submit`, which answers null or the sentence to show). */
export function signInView(brand: string, submit: (email: string, password: string) => Promise<string | null>, message?: string): HTMLElement {
  const email = el('input', { id: 'signin-email', type: 'email', name: 'email', autocomplete: 'username', required: '', 'data-testid': 'signin-email' });
  const password = el('input', { id: 'signin-password', type: 'password', name: 'password', autocomplete: 'current-password', required: '', 'data-testid': 'signin-password' });
  const error = el('p', { id: 'signin-error', class: 'error', role: 'alert', 'data-testid': 'signin-error', hidden: '' });
  const submitButton = el('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, L.signIn);
  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = false;
    password.setAttribute('aria-invalid', 'true');
    email.setAttribute('aria-describedby', 'signin-error');
  };
  if (message) showError(message);
  const form = el(
    'form',
    { class: 'signin', 'aria-labelledby': 'signin-title', novalidate: '' },
    el('h1', { id: 'signin-title' }, `${brand} · ${L.title}`),
    el('h2', {}, L.signInTitle),
    el('label', { for: 'signin-email' }, L.email),
    email,
    el('label', { for: 'signin-password' }, L.password),
    password,
    error,
    submitButton,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const address = email.value.trim();
      if (!address || !password.value) {
        showError(L.missingFields);
        (address ? password : email).focus();
        return;
      }
      submitButton.disabled = true;
      submitButton.textContent = L.signingIn;
      try {
        const problem = await submit(address, password.value);
        if (problem) {
          showError(problem);
          password.value = '';
          password.focus();
        }
      } finally {
        submitButton.disabled = false;
        submitButton.textContent = L.signIn;
      }
    })();
  });
  queueMicrotask(() => email.focus());
  return el('main', { class: 'signin-page' }, form);
}

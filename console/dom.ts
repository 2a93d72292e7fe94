/** The only way the console builds DOM: createElement, attributes and textContent; never HTML strings. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** A button that never submits a form by accident. */
export function button(label: string, attrs: Record<string, string | undefined> = {}, onClick?: (event: MouseEvent) => void): HTMLButtonElement {
  const node = el('button', { type: 'button', ...attrs }, label);
  if (onClick) node.addEventListener('click', onClick);
  return node;
}

/** Moves focus between the items of a list with the arrow keys, Home and End (roving tabindex). */
export function rovingFocus(container: HTMLElement, selector: string, orientation: 'horizontal' | 'vertical'): void {
  const prev = orientation === 'horizontal' ? 'ArrowLeft' : 'ArrowUp';
  const next = orientation === 'horizontal' ? 'ArrowRight' : 'ArrowDown';
  container.addEventListener('keydown', (event) => {
    if (![prev, next, 'Home', 'End'].includes(event.key)) return;
    const items = [...container.querySelectorAll<HTMLElement>(selector)];
    const index = items.indexOf(document.activeElement as HTMLElement);
    if (index === -1 || items.length === 0) return;
    event.preventDefault();
    const target =
      event.key === 'Home' ? 0 : event.key === 'End' ? items.length - 1 : (index + (event.key === next ? 1 : -1) + items.length) % items.length;
    items[target]?.focus();
  });
}

import { describe, expect, it } from 'vitest';
import { parseMarkdown, safeHref } from '../widget/markdown.js';
import { pickLanguage } from '../widget/labels.js';

describe('the widget Markdown subset', () => {
  it('parses paragraphs, bullet and numbered lists, bold and links', () => {
    const blocks = parseMarkdown('Hello **there**.\n\n- one\n- [two](https://help.example.com/x)\n\n1. first\n2. second');
    expect(blocks).toEqual([
      { kind: 'p', inlines: [{ kind: 'text', text: 'Hello ' }, { kind: 'strong', text: 'there' }, { kind: 'text', text: '.' }] },
      { kind: 'ul', items: [[{ kind: 'text', text: 'one' }], [{ kind: 'link', text: 'two', href: 'https://help.example.com/x' }]] },
      { kind: 'ol', items: [[{ kind: 'text', text: 'first' }], [{ kind: 'text', text: 'second' }]] },
    ]);
  });

  it('keeps dangerous links and HTML as plain text', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<script>')).toBeNull();
    const [block] = parseMarkdown('[click](javascript:alert(1)) <b>hi</b>');
    expect(block?.kind).toBe('p');
    const inlines = block?.kind === 'p' ? block.inlines : [];
    expect(inlines.every((inline) => inline.kind === 'text')).toBe(true);
    expect(inlines.map((inline) => inline.text).join('')).toBe('[click](javascript:alert(1)) <b>hi</b>');
  });

  it('picks the widget language from the attribute, then the browser', () => {
    expect(pickLanguage('es', ['en-GB'])).toBe('es');
    expect(pickLanguage(null, ['fr-FR', 'es-MX'])).toBe('es');
    expect(pickLanguage(undefined, ['de'])).toBe('en');
  });
});

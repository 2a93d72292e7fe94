/**
 * The safe Markdown subset of bot answers: paragraphs, "- " and "1. " lists, **bold** and
 * [links](https://…). Parsed into a tree that is rendered with createElement/textContent
 * only, so no text ever becomes HTML.
 */
export type Inline = { kind: 'text'; text: string } | { kind: 'strong'; text: string } | { kind: 'link'; text: string; href: string };
export type Block = { kind: 'p'; inlines: Inline[] } | { kind: 'ul' | 'ol'; items: Inline[][] };

const INLINE = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;

export function safeHref(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export function parseInlines(text: string): Inline[] {
  const inlines: Inline[] = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    if (index > last) inlines.push({ kind: 'text', text: text.slice(last, index) });
    if (match[1] !== undefined) inlines.push({ kind: 'strong', text: match[1] });
    else {
      const href = safeHref(match[3] ?? '');
      inlines.push(href ? { kind: 'link', text: match[2] ?? '', href } : { kind: 'text', text: match[0] });
    }
    last = index + match[0].length;
  }
  if (last < text.length) inlines.push({ kind: 'text', text: text.slice(last) });
  return inlines;
}

export function parseMarkdown(source: string): Block[] {
  const blocks: Block[] = [];
  for (const chunk of source.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    const lines = chunk.split('\n').filter((line) => line.trim() !== '');
    if (lines.length === 0) continue;
    const bullet = lines.every((line) => /^\s*[-*] /.test(line));
    const numbered = lines.every((line) => /^\s*\d+\. /.test(line));
    if (bullet || numbered) {
      blocks.push({ kind: bullet ? 'ul' : 'ol', items: lines.map((line) => parseInlines(line.replace(/^\s*(?:[-*]|\d+\.) /, ''))) });
    } else {
      blocks.push({ kind: 'p', inlines: parseInlines(lines.join(' ')) });
    }
  }
  return blocks;
}

function renderInlines(doc: Document, parent: HTMLElement, inlines: Inline[]): void {
  for (const inline of inlines) {
    if (inline.kind === 'text') parent.append(doc.createTextNode(inline.text));
    else if (inline.kind === 'strong') {
      const strong = doc.createElement('strong');
      strong.textContent = inline.text;
      parent.append(strong);
    } else {
      const link = doc.createElement('a');
      link.href = inline.href;
      link.textContent = inline.text;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      parent.append(link);
    }
  }
}

export function renderMarkdown(doc: Document, source: string): DocumentFragment {
  const fragment = doc.createDocumentFragment();
  for (const block of parseMarkdown(source)) {
    if (block.kind === 'p') {
      const p = doc.createElement('p');
      renderInlines(doc, p, block.inlines);
      fragment.append(p);
    } else {
      const list = doc.createElement(block.kind);
      for (const item of block.items) {
        const li = doc.createElement('li');
        renderInlines(doc, li, item);
        list.append(li);
      }
      fragment.append(list);
    }
  }
  return fragment;
}

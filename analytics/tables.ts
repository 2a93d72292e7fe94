import { el } from '../console/dom.js';
import { reportUrl, type Params, type ReportName } from './api.js';
import { L } from './labels.js';

export interface Column<Row> {
  label: string;
  value: (row: Row) => string | Node;
  numeric?: boolean;
}

/** A table built from data with textContent only (comments, intents and names are never parsed as HTML). */
export function dataTable<Row>(caption: string, columns: Column<Row>[], rows: Row[], attrs: Record<string, string | undefined> = {}, rowAttrs?: (row: Row) => Record<string, string | undefined>): HTMLElement {
  const head = el('tr', {}, ...columns.map((c) => el('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.label)));
  const body = el('tbody');
  for (const row of rows) body.append(el('tr', rowAttrs?.(row) ?? {}, ...columns.map((c) => el('td', { class: c.numeric ? 'num' : undefined }, c.value(row)))));
  return el('div', { class: 'table-wrap' }, el('table', attrs, el('caption', { class: 'sr-only' }, caption), el('thead', {}, head), body));
}

/** The CSV download link for a report, with the same parameters as what is shown. */
export function csvLink(name: ReportName, params: Params): HTMLAnchorElement {
  return el('a', { class: 'csv', href: reportUrl(name, params, true), download: '', 'data-testid': `csv-${name}` }, `${L.csv} (${name}.csv)`);
}

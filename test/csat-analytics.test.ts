import { describe, expect, it } from 'vitest';
import {
  compareCsat,
  csatByAgent,
  csatByDay,
  csatByIntent,
  csatByLanguage,
  csatFigure,
  handoffRates,
  inRange,
  listComments,
  responseRates,
  summarize,
  toCsv,
  wilsonInterval,
  type Cell,
  type Table,
} from '../server/domain/csat-analytics.js';
import { surveyRecordSchema, type HandledBy, type SurveyRecord } from '../server/domain/csat.js';

let counter = 0;
function survey(handledBy: HandledBy, rating: number | null, fields: Partial<SurveyRecord> = {}): SurveyRecord {
  counter += 1;
  const answered = rating !== null;
  return surveyRecordSchema.parse({
    v: 1,
    conversationId: `conv_fixture${String(counter).padStart(4, '0')}`,
    startedAt: '2025-03-01T09:00:00.000Z',
    endedAt: '2025-03-01T09:10:00.000Z',
    endReason: handledBy === 'bot' ? 'resolved_by_bot' : 'closed_by_agent:resolved',
    handledBy,
    agentIds: [],
    botIntents: [],
    agentIntent: null,
    language: 'en',
    handoffReason: null,
    waitMs: handledBy === 'bot' ? null : 30_000,
    rating,
    comment: null,
    resolved: answered ? rating >= 4 : null,
    answeredAt: answered ? '2025-03-01T09:12:00.000Z' : null,
    ...fields,
  });
}

const bot = (rating: number | null, intent: string, fields: Partial<SurveyRecord> = {}) => survey('bot', rating, { botIntents: [intent], ...fields });

/**
 * 20 ended conversations, 16 answered, 12 satisfied (rating 4 or 5):
 *   bot-resolved    12 ended, 10 answered, 9 satisfied
 *   handed off       5 ended,  4 answered, 2 satisfied
 *   agent-only       3 ended,  2 answered, 1 satisfied
 */
const RECORDS: SurveyRecord[] = [
  bot(5, 'billing.refund', { comment: 'Quick and clear', answeredAt: '2025-03-01T09:12:00.000Z' }),
  bot(5, 'billing.refund', { endedAt: '2025-03-02T10:00:00.000Z' }),
  bot(5, 'billing.refund', { language: 'es', comment: '¡Perfecto, gracias!', endedAt: '2025-03-02T10:55:00.000Z', answeredAt: '2025-03-02T11:00:00.000Z' }),
  bot(4, 'account.password'),
  bot(4, 'account.password', { endedAt: '2025-03-03T08:00:00.000Z' }),
  bot(4, 'account.password'),
  // 00:30 at +02:00 is 22:30 UTC the day before: counted on 2025-03-01.
  bot(5, 'playback.offline', { endedAt: '2025-03-02T00:30:00+02:00' }),
  bot(5, 'playback.offline', { language: 'es' }),
  bot(4, 'playback.offline', { endedAt: '2025-03-03T09:00:00.000Z' }),
  bot(2, 'playback.offline', { comment: '=HYPERLINK("http://example.test","click")', answeredAt: '2025-03-01T10:00:00.000Z' }),
  bot(null, 'billing.refund'),
  bot(null, 'account.password'),

  survey('bot_then_agent', 5, { botIntents: ['account.password'], agentIntent: 'billing.refund', agentIds: ['agt_ana'], handoffReason: 'requested', comment: 'Ana sorted my refund, thanks', answeredAt: '2025-03-03T12:00:00.000Z', endedAt: '2025-03-03T11:55:00.000Z' }),
  survey('bot_then_agent', 4, { botIntents: ['billing.refund'], agentIds: ['agt_ben', 'agt_ana'], handoffReason: 'requested', language: 'es' }),
  survey('bot_then_agent', 1, { botIntents: ['playback.offline'], agentIds: ['agt_ben'], handoffReason: 'not_understood', comment: 'Waited far too long, "support" my foot\nnever again', endedAt: '2025-03-02T14:50:00.000Z', answeredAt: '2025-03-02T15:00:00.000Z' }),
  survey('bot_then_agent', 3, { botIntents: ['playback.offline', 'billing.refund'], agentIntent: 'playback.offline', agentIds: ['agt_ben'], handoffReason: 'not_understood', comment: 'It was ok, I guess', endedAt: '2025-03-02T15:50:00.000Z', answeredAt: '2025-03-02T16:00:00.000Z' }),
  survey('bot_then_agent', null, { botIntents: ['billing.refund'], agentIds: ['agt_ana'], handoffReason: 'requested' }),

  survey('agent', 5, { agentIntent: 'account.password', agentIds: ['agt_ana'], handoffReason: 'requested', comment: '+1 great help', endedAt: '2025-03-02T16:50:00.000Z', answeredAt: '2025-03-02T17:00:00.000Z' }),
  survey('agent', 2, { agentIds: ['agt_ben'], handoffReason: 'requested', language: 'es', comment: '- not solved', endedAt: '2025-03-02T17:50:00.000Z', answeredAt: '2025-03-02T18:00:00.000Z' }),
  survey('agent', null, { agentIntent: 'billing.refund', agentIds: ['agt_ben'], handoffReason: 'frustrated' }),
];

/*
 * Wilson 95% by hand, z = 1.96 (z² = 3.8415):
 *   centre = (p + z²/2n) / (1 + z²/n), half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n)
 *   9/10:  centre = (0.9 + 0.19207) / 1.38415 = 0.78900; half = 1.96·√(0.009 + 0.009604) / 1.38415 = 0.19314 -> [0.596, 0.982]
 *   2/4:   centre = (0.5 + 0.48018) / 1.96037 = 0.5;     half = 1.96·√(0.0625 + 0.060023) / 1.96037 = 0.34996 -> [0.150, 0.850]
 *   1/2:   centre = 0.5;                                  half = 1.96·√(0.125 + 0.240091) / 2.92073 = 0.40547 -> [0.0945, 0.9055]
 *   12/16: centre = (0.75 + 0.12005) / 1.24009 = 0.70160; half = 1.96·√(0.011719 + 0.003751) / 1.24009 = 0.19658 -> [0.505, 0.898]
 *   12/20: centre = (0.6 + 0.09604) / 1.19207 = 0.58390;  half = 1.96·√(0.012 + 0.002401) / 1.19207 = 0.19731 -> [0.387, 0.781]
 *   0/3:   low = 0, high = z²/(n + z²) = 3.8415 / 6.8415 = 0.5615
 *   3/3:   low = n/(n + z²) = 3 / 6.8415 = 0.4385, high = 1
 */
function expectFigure(actual: { n: number; csat: number | null; low: number | null; high: number | null }, n: number, csat: number, low: number, high: number) {
  expect(actual.n).toBe(n);
  expect(actual.csat).toBeCloseTo(csat, 3);
  expect(actual.low).toBeCloseTo(low, 3);
  expect(actual.high).toBeCloseTo(high, 3);
}

/** A small RFC 4180 reader for the checks below (quoted cells, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  return rows;
}

function expectCsvEqualsTable<Row extends Record<string, Cell>>(report: Table<Row>) {
  const [header, ...lines] = parseCsv(toCsv(report.rows, report.columns));
  expect(header).toEqual(report.columns);
  expect(lines).toHaveLength(report.rows.length);
  lines.forEach((line, i) => {
    const row = report.rows[i]!;
    expect(line).toEqual(
      report.columns.map((column) => {
        const value = row[column];
        if (value === null || value === undefined) return '';
        const text = String(value);
        return typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
      }),
    );
  });
}

describe('Wilson score interval', () => {
  it('matches the hand-computed bounds', () => {
    const check = (s: number, n: number, low: number, high: number) => {
      const interval = wilsonInterval(s, n)!;
      expect(interval.low).toBeCloseTo(low, 3);
      expect(interval.high).toBeCloseTo(high, 3);
    };
    check(9, 10, 0.596, 0.982);
    check(2, 4, 0.15, 0.85);
    check(1, 2, 0.0945, 0.9055);
    check(12, 16, 0.505, 0.898);
    check(0, 3, 0, 0.5615);
    check(3, 3, 0.4385, 1);
  });

  it('has no interval without answers, and refuses impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(csatFigure([])).toEqual({ n: 0, satisfied: 0, csat: null, low: null, high: null });
    expect(() => wilsonInterval(5, 4)).toThrow(RangeError);
  });
});

describe('summary', () => {
  const summary = summarize(RECORDS);

  it('gives overall and per-cohort CSAT with n and the 95% interval', () => {
    expect(summary.ended).toBe(20);
    expect(summary.answered).toBe(16);
    expectFigure(summary.overall, 16, 0.75, 0.505, 0.898);
    const cohort = (c: string) => summary.cohorts.find((row) => row.cohort === c)!;
    expectFigure(cohort('bot'), 10, 0.9, 0.596, 0.982);
    expectFigure(cohort('bot_then_agent'), 4, 0.5, 0.15, 0.85);
    expectFigure(cohort('agent'), 2, 0.5, 0.0945, 0.9055);
    expectFigure(cohort('all'), 16, 0.75, 0.505, 0.898);
    expect(cohort('bot').ended).toBe(12);
  });

  it('gives containment with its definition: bot-handled over all ended', () => {
    expect(summary.containment).toMatchObject({ count: 12, total: 20, rate: 0.6 });
    expect(summary.containment.low).toBeCloseTo(0.387, 3);
    expect(summary.containment.high).toBeCloseTo(0.781, 3);
    expect(summary.containment.definition).toMatch(/without a person/);
  });

  it('gives response rates per cohort: answered over ended', () => {
    expect(responseRates(RECORDS).rows.map((r) => [r.cohort, r.answered, r.ended, r.rate])).toEqual([
      ['bot', 10, 12, 0.8333],
      ['bot_then_agent', 4, 5, 0.8],
      ['agent', 2, 3, 0.6667],
      ['all', 16, 20, 0.8],
    ]);
    expect(summary.responseRates).toEqual(responseRates(RECORDS).rows);
  });

  it('does not flag overlapping cohorts', () => {
    // bot [0.596, 0.982] vs handed off [0.150, 0.850]: they overlap although 0.9 > 0.5.
    expect(summary.comparisons).toEqual([
      { a: 'bot', b: 'bot_then_agent', differs: false, higher: null },
      { a: 'bot', b: 'agent', differs: false, higher: null },
      { a: 'bot_then_agent', b: 'agent', differs: false, higher: null },
    ]);
  });

  it('flags a real difference, with the direction', () => {
    // bot 20/20: [0.839, 1]; agent-only 2/10: [0.057, 0.510]: no overlap.
    const records = [
      ...Array.from({ length: 20 }, () => bot(5, 'billing.refund')),
      ...Array.from({ length: 10 }, (_, i) => survey('agent', i < 2 ? 4 : 1, { agentIds: ['agt_ana'], agentIntent: 'billing.refund', handoffReason: 'requested' })),
    ];
    const comparisons = summarize(records).comparisons;
    expect(comparisons.find((c) => c.a === 'bot' && c.b === 'agent')).toEqual({ a: 'bot', b: 'agent', differs: true, higher: 'bot' });
    // No answers on one side: nothing to compare.
    expect(comparisons.find((c) => c.a === 'bot' && c.b === 'bot_then_agent')).toMatchObject({ differs: false, higher: null });
    expect(compareCsat({ satisfied: 2, n: 10 }, { satisfied: 20, n: 20 })).toEqual({ differs: true, higher: 'b' });
    const intent = csatByIntent(records).rows[0]!;
    expect(intent).toMatchObject({ intent: 'billing.refund', bot_n: 20, agent_n: 10, differs: true, higher: 'bot' });
    expect(intent.agent_low).toBeCloseTo(0.057, 3);
    expect(intent.agent_high).toBeCloseTo(0.51, 3);
    expect(intent.bot_low).toBeCloseTo(0.839, 3);
  });

  it('gives the summary as rows for CSV', () => {
    expect(summary.rows.find((r) => r.metric === 'containment')).toEqual({ metric: 'containment', cohort: 'all', count: 12, total: 20, rate: 0.6, low: summary.containment.low, high: summary.containment.high });
    expect(summary.rows.filter((r) => r.metric === 'csat').map((r) => [r.cohort, r.count, r.total])).toEqual([
      ['bot', 9, 10],
      ['bot_then_agent', 2, 4],
      ['agent', 1, 2],
      ['all', 12, 16],
    ]);
    expect(summary.rows.find((r) => r.metric === 'handoff_rate')).toMatchObject({ count: 8, total: 20, rate: 0.4 });
    expectCsvEqualsTable(summary);
  });
});

describe('breakdowns', () => {
  it('by day: UTC date of endedAt, per cohort and all, every day listed', () => {
    const report = csatByDay(RECORDS);
    expect([...new Set(report.rows.map((r) => r.date))]).toEqual(['2025-03-01', '2025-03-02', '2025-03-03']);
    const day = (date: string, cohort: string) => report.rows.find((r) => r.date === date && r.cohort === cohort)!;
    // 2025-03-01: 11 conversations, the one that ended at 00:30+02:00 on the 2nd included.
    expect(day('2025-03-01', 'all')).toMatchObject({ ended: 11, n: 7, satisfied: 6 });
    expect(day('2025-03-01', 'bot')).toMatchObject({ ended: 8, n: 6, satisfied: 5 });
    expect(day('2025-03-02', 'bot')).toMatchObject({ ended: 2, n: 2, satisfied: 2, csat: 1 });
    expect(day('2025-03-02', 'bot_then_agent')).toMatchObject({ ended: 2, n: 2, satisfied: 0, csat: 0 });
    expect(day('2025-03-02', 'agent')).toMatchObject({ ended: 2, n: 2, satisfied: 1, csat: 0.5 });
    expect(day('2025-03-03', 'bot')).toMatchObject({ ended: 2, n: 2, satisfied: 2 });
    expect(day('2025-03-03', 'bot_then_agent')).toMatchObject({ ended: 1, n: 1, satisfied: 1 });
    expect(day('2025-03-03', 'agent')).toMatchObject({ ended: 0, n: 0, csat: null, low: null });
    expect(report.rows.filter((r) => r.cohort === 'all').reduce((sum, r) => sum + r.ended, 0)).toBe(20);
  });

  it('by day: fills days without conversations', () => {
    const report = csatByDay([bot(5, 'a', { endedAt: '2025-03-01T12:00:00Z' }), bot(4, 'a', { endedAt: '2025-03-04T12:00:00Z' })]);
    expect([...new Set(report.rows.map((r) => r.date))]).toEqual(['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04']);
    expect(report.rows.find((r) => r.date === '2025-03-02' && r.cohort === 'all')).toMatchObject({ ended: 0, n: 0, csat: null });
  });

  it('by intent: the agent’s intent if set, else the bot’s last; bot vs agent side by side', () => {
    const rows = csatByIntent(RECORDS).rows;
    // Most answers first.
    expect(rows.map((r) => [r.intent, r.ended, r.n, r.bot_n, r.agent_n])).toEqual([
      ['playback.offline', 6, 6, 4, 2],
      ['billing.refund', 8, 5, 3, 2],
      ['account.password', 5, 4, 3, 1],
      [null, 1, 1, 0, 1],
    ]);
    const playback = rows.find((r) => r.intent === 'playback.offline')!;
    // bot 3/4 [0.301, 0.954] vs agent 0/2 [0, 0.658]: overlapping, so not flagged.
    expect(playback).toMatchObject({ bot_csat: 0.75, agent_csat: 0, differs: false, higher: null });
    expect(playback.bot_low).toBeCloseTo(0.301, 3);
    expect(playback.bot_high).toBeCloseTo(0.954, 3);
    expect(playback.agent_high).toBeCloseTo(0.658, 3);
    expect(rows.find((r) => r.intent === 'billing.refund')).toMatchObject({ csat: 1, bot_csat: 1, agent_csat: 1 });
    expectCsvEqualsTable(csatByIntent(RECORDS));
  });

  it('by agent: the last agent who held the conversation, with names (the id when unknown)', () => {
    const names = new Map([['agt_ana', 'Ana Vidal']]);
    const report = csatByAgent(RECORDS, (id) => names.get(id));
    // Same n: ordered by name.
    expect(report.rows.map((r) => [r.agentId, r.agentName, r.ended, r.n, r.satisfied])).toEqual([
      ['agt_ben', 'agt_ben', 4, 3, 0],
      ['agt_ana', 'Ana Vidal', 4, 3, 3],
    ]);
    expect(report.rows[0]!.high).toBeCloseTo(0.5615, 3);
    expect(report.rows[1]!.low).toBeCloseTo(0.4385, 3);
    expectCsvEqualsTable(report);
  });

  it('by language', () => {
    expect(csatByLanguage(RECORDS).rows.map((r) => [r.language, r.ended, r.n, r.satisfied])).toEqual([
      ['en', 16, 12, 9],
      ['es', 4, 4, 3],
    ]);
  });

  it('handoff rate by reason over all ended conversations', () => {
    const report = handoffRates(RECORDS);
    expect(report.rows.map((r) => [r.reason, r.count, r.total, r.rate])).toEqual([
      ['requested', 5, 20, 0.25],
      ['not_understood', 2, 20, 0.1],
      ['frustrated', 1, 20, 0.05],
      ['all', 8, 20, 0.4],
    ]);
    expect(report.definition).toMatch(/handoffReason/);
    expectCsvEqualsTable(report);
  });

  it('time range: from inclusive, to exclusive, on endedAt', () => {
    const march2 = inRange(RECORDS, { from: new Date('2025-03-02T00:00:00Z'), to: new Date('2025-03-03T00:00:00Z') });
    expect(march2.every((r) => new Date(r.endedAt).toISOString().startsWith('2025-03-02'))).toBe(true);
    expect(march2).toHaveLength(6);
    expect(inRange(RECORDS, {})).toHaveLength(20);
    expect(inRange(RECORDS, { from: new Date('2025-03-03T00:00:00Z') })).toHaveLength(3);
  });
});

describe('comments', () => {
  const texts = (filter: Parameters<typeof listComments>[1]) => listComments(RECORDS, filter).rows.map((r) => r.comment);

  it('lists answered surveys with a comment, newest first, with their context', () => {
    const rows = listComments(RECORDS, {}, (id) => (id === 'agt_ana' ? 'Ana Vidal' : undefined)).rows;
    expect(rows).toHaveLength(8);
    expect(rows[0]).toMatchObject({ comment: 'Ana sorted my refund, thanks', rating: 5, cohort: 'bot_then_agent', intent: 'billing.refund', agentId: 'agt_ana', agentName: 'Ana Vidal', language: 'en', date: '2025-03-03' });
    expect(rows.find((r) => r.comment === 'Quick and clear')).toMatchObject({ cohort: 'bot', agentId: null, agentName: null, intent: 'billing.refund' });
  });

  it('filters by cohort, intent, agent, language, rating range and text', () => {
    expect(texts({ cohort: 'bot' }).sort()).toEqual(['=HYPERLINK("http://example.test","click")', 'Quick and clear', '¡Perfecto, gracias!'].sort());
    expect(texts({ intent: 'playback.offline' })).toHaveLength(3);
    expect(texts({ agent: 'agt_ana' }).sort()).toEqual(['+1 great help', 'Ana sorted my refund, thanks']);
    expect(texts({ language: 'es' }).sort()).toEqual(['- not solved', '¡Perfecto, gracias!']);
    expect(texts({ minRating: 4 })).toHaveLength(4);
    expect(texts({ maxRating: 2 })).toHaveLength(3);
    expect(texts({ minRating: 3, maxRating: 3 })).toEqual(['It was ok, I guess']);
    expect(texts({ q: 'REFUND' })).toEqual(['Ana sorted my refund, thanks']);
    expect(texts({ q: 'perfecto', language: 'es', cohort: 'bot' })).toEqual(['¡Perfecto, gracias!']);
    expect(texts({ cohort: 'agent', minRating: 5, q: 'nothing like this' })).toEqual([]);
  });

  it('comments CSV rows equal the table rows, formula-like comments neutralised', () => {
    const report = listComments(RECORDS);
    expectCsvEqualsTable(report);
    const csv = toCsv(report.rows, report.columns);
    expect(csv).toContain(`"'=HYPERLINK(""http://example.test"",""click"")"`);
    expect(csv).toContain(`'+1 great help`);
    expect(csv).toContain(`'- not solved`);
    expect(csv).toContain(`"Waited far too long, ""support"" my foot\nnever again"`);
  });
});

describe('toCsv', () => {
  it('quotes as RFC 4180 and neutralises spreadsheet formulas', () => {
    const rows = [
      { a: 'plain', b: 1, c: true },
      { a: 'comma, inside', b: 0.25, c: false },
      { a: 'say "hi"', b: null, c: null },
      { a: 'two\r\nlines', b: -3, c: true },
      { a: '=1+1', b: 2, c: true },
      { a: '+SUM(A1)', b: 3, c: true },
      { a: '-2', b: 4, c: true },
      { a: '@cmd', b: 5, c: true },
      { a: '\tTAB', b: 6, c: true },
      { a: 'a=b is fine', b: 7, c: true },
    ];
    expect(toCsv(rows, ['a', 'b', 'c'])).toBe(
      [
        'a,b,c',
        'plain,1,true',
        '"comma, inside",0.25,false',
        '"say ""hi""",,',
        '"two\r\nlines",-3,true',
        "'=1+1,2,true",
        "'+SUM(A1),3,true",
        "'-2,4,true",
        "'@cmd,5,true",
        "'\tTAB,6,true",
        'a=b is fine,7,true',
        '',
      ].join('\r\n'),
    );
  });

  it('writes only the header for no rows, and the columns in the order given', () => {
    expect(toCsv([], ['x', 'y'])).toBe('x,y\r\n');
    expect(toCsv([{ x: 1, y: 2 }], ['y', 'x'])).toBe('y,x\r\n2,1\r\n');
  });
});

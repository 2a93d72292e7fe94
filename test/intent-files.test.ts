import { describe, expect, it } from 'vitest';
import { loadIntents, parseIntentFile, IntentFileError } from '../bot/load-intents.js';

describe('intent files', () => {
  it('every shipped intent file parses', async () => {
    const intents = await loadIntents('intents');
    expect(intents.length).toBeGreaterThan(0);
  });

  it('a bad file names the file and the field', () => {
    const bad = JSON.stringify({ id: 'billing.receipt', label: { en: 'x', es: 'x' }, tags: ['billing'], policy: { action: 'answer' }, en: { phrases: [], answer: 'a' }, es: { phrases: ['b'], answer: 'b' } });
    expect(() => parseIntentFile('intents/billing.receipt.json', bad)).toThrowError(IntentFileError);
    expect(() => parseIntentFile('intents/billing.receipt.json', bad)).toThrowError(/billing\.receipt\.json: field "en\.phrases"/);
    expect(() => parseIntentFile('intents/x.json', '{oops')).toThrowError(/x\.json: file: is not valid JSON/);
  });
});

import { describe, expect, it } from 'vitest';
import { trainModel } from '../bot/engine/index.js';
import { newId } from '../server/domain/ids.js';
import { copyPlain } from '../server/store/memory-store.js';
import { syntheticPhrases } from './engine/fixtures.js';

/** The per-message shortcuts give exactly what the plain way gives. */
describe('per-message hot path', () => {
  it('classify with a limit returns the first guesses of the full ranking, unchanged', () => {
    const { classifier } = trainModel(syntheticPhrases(), { seed: 7 });
    const texts = ['refund please', 'hola', 'my password is wrong', 'zzz qqq', 'la música se para sola', 'cancel my subscription and refund me', '!!!', ''];
    for (const text of texts) {
      for (const language of ['en', 'es'] as const) {
        const all = classifier.classify(text, language);
        for (const limit of [0, 1, 2, 3, 4, 5, 10]) expect(classifier.classify(text, language, limit)).toEqual(all.slice(0, limit));
      }
    }
  });

  it('copyPlain copies plain data as structuredClone does, and hands anything else to it', () => {
    const event = { type: 'message.new', seq: 3, at: '2026-01-01T00:00:00.000Z', text: 'hi', clientId: undefined, quickReplies: [{ label: 'a', value: 'b' }], understanding: { intent: null, confidence: 0.5 } };
    const copy = copyPlain(event);
    expect(copy).toStrictEqual(structuredClone(event));
    expect(copy).not.toBe(event);
    expect(copy.quickReplies).not.toBe(event.quickReplies);
    expect(copy.quickReplies[0]).not.toBe(event.quickReplies[0]);
    expect('clientId' in copy).toBe(true);
    const odd = { when: new Date(0), bytes: Buffer.from('x'), map: new Map([[1, 2]]) };
    expect(copyPlain(odd)).toStrictEqual(structuredClone(odd));
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const safe = copyPlain(hostile);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect(copyPlain(null)).toBeNull();
    expect(copyPlain([1, 'two', [3]])).toEqual([1, 'two', [3]]);
  });

  it('ids stay 16 random base64url characters after the kind, all different', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = newId('msg');
      expect(id).toMatch(/^msg_[A-Za-z0-9_-]{16}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5000);
  });
});

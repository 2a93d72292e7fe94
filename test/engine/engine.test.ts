import natural from 'natural';
import { describe, expect, it, vi } from 'vitest';
import { analyse, intentsHash, loadModel, trainModel } from '../../bot/engine/index.js';
import { DEFAULT_FEATURES, FeatureSpace } from '../../bot/engine/features.js';
import { syntheticPhrases, syntheticValidation } from './fixtures.js';

describe('engine training and classification', () => {
  const phrases = syntheticPhrases();
  const model = trainModel(phrases, { seed: 7 });

  it('is deterministic: same seed and data give identical model bytes and scores', () => {
    const again = trainModel(phrases, { seed: 7 });
    expect(again.serialize().equals(model.serialize())).toBe(true);
    for (const text of ['refund please', 'hola', 'my password is wrong']) {
      expect(again.classifier.classify(text, 'en')).toEqual(model.classifier.classify(text, 'en'));
    }
    const reloaded = loadModel(model.serialize());
    expect(reloaded.classify('refund please', 'en')).toEqual(model.classifier.classify('refund please', 'en'));
    expect(reloaded.version).toBe(model.classifier.version);
  });

  it('ranks the right intent first with confidences in [0, 1], best first', () => {
    const scored = model.classifier.classify('I would like a refund for my payment', 'en');
    expect(scored[0]?.intent).toBe('billing.refund_request');
    for (const s of scored) expect(s.confidence).toBeGreaterThanOrEqual(0);
    const sum = scored.reduce((total, s) => total + s.confidence, 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-9);
    for (let i = 1; i < scored.length; i++) expect(scored[i - 1]!.confidence).toBeGreaterThanOrEqual(scored[i]!.confidence);
    expect(model.classifier.classify('quiero cancelar la suscripción', 'es')[0]?.intent).toBe('billing.cancel_subscription');
  });

  it('gives an empty list for empty input and rejects gibberish', () => {
    expect(model.classifier.classify('', 'en')).toEqual([]);
    expect(model.classifier.classify('   \n\t ', 'es')).toEqual([]);
    const { minConfidence } = model.classifier.thresholds;
    for (const gibberish of ['qzxv wkrj pplt', 'zzzzzzzz', '@@@ ### %%%', 'xkcd blorf quux']) {
      const top = model.classifier.classify(gibberish, 'en')[0];
      expect(top === undefined || top.confidence < minConfidence, gibberish).toBe(true);
    }
    // in-scope messages are answered
    expect(model.classifier.classify('reset my password please', 'en')[0]!.confidence).toBeGreaterThanOrEqual(minConfidence);
  });

  it('stems Spanish text with the Spanish Porter stemmer and English text with the English one', () => {
    const es = vi.spyOn(natural.PorterStemmerEs, 'stem');
    const en = vi.spyOn(natural.PorterStemmer, 'stem');
    try {
      const spanish = analyse('cancelaríamos suscripciones', 'es');
      expect(spanish.stems).toEqual([natural.PorterStemmerEs.stem('cancelaríamos'), natural.PorterStemmerEs.stem('suscripciones')]);
      expect(es).toHaveBeenCalledWith('cancelaríamos');
      expect(en).not.toHaveBeenCalledWith('cancelaríamos');
      // an unseen inflection still reaches the Spanish intent through its stem
      model.classifier.classify('reembolsaríais', 'es');
      expect(es).toHaveBeenCalledWith('reembolsaríais');
      expect(en).not.toHaveBeenCalledWith('reembolsaríais');
      analyse('cancellations', 'en');
      expect(en).toHaveBeenCalledWith('cancellations');
      expect(es).not.toHaveBeenCalledWith('cancellations');
    } finally {
      es.mockRestore();
      en.mockRestore();
    }
    expect(analyse('devolvieron', 'es').stems[0]).toBe(natural.PorterStemmerEs.stem('devolvieron'));
    expect(analyse('devolvieron', 'es').stems[0]).not.toBe(analyse('devolvieron', 'en').stems[0]);
  });

  it('records intents hash, languages, seed, validation metrics and thresholds', () => {
    expect(model.header.intentsHash).toBe(intentsHash(phrases));
    expect(intentsHash([...phrases].reverse())).toBe(intentsHash(phrases));
    expect(intentsHash(phrases.slice(1))).not.toBe(intentsHash(phrases));
    expect(model.header.languages).toEqual(['en', 'es']);
    expect(model.header.seed).toBe(7);
    expect(model.header.validation.method).toBe('cross-validation');
    expect(model.classifier.thresholds.minConfidence).toBeGreaterThan(0);
    expect(model.classifier.thresholds.minConfidence).toBeLessThanOrEqual(1);
    expect(model.classifier.version).toMatch(/^tfidf-ovr-svm@3:[0-9a-f]{12}:[0-9a-f]{12}$/);
  });

  it('uses given validation data (with oos) instead of cross-validation', () => {
    const validation = syntheticValidation();
    const withVal = trainModel(phrases, { seed: 7, validation });
    expect(withVal.header.validation.method).toBe('given');
    expect(withVal.header.validation.oosCount).toBe(1);
  });

  it('chooses the nearest-neighbour bonus weight on validation and keeps it off when asked', () => {
    const tried = model.header.neighbours?.tried.map((t) => t.weight) ?? [];
    if (model.header.neighbours !== null) {
      expect(tried).toContain(model.header.neighbours.weight);
      expect(model.header.neighbours.weight).toBeGreaterThanOrEqual(0);
      expect(model.classifier.version).toMatch(/@3:/);
    }
    // Weight 0: no bonus, but the index stays for the rejector's similarity signals.
    const plain = trainModel(phrases, { seed: 7, neighbourWeights: [0] });
    expect(plain.header.neighbours?.weight).toBe(0);
    expect(plain.header.rejector).not.toBeNull();
    const bare = trainModel(phrases, { seed: 7, neighbourWeights: [0], rejector: false });
    expect(bare.header.neighbours).toBeNull();
    expect(bare.classifier.version).toMatch(/@3:/);
    const forced = trainModel(phrases, { seed: 7, neighbourWeights: [2] });
    expect(forced.header.neighbours?.weight).toBe(2);
    const reloaded = loadModel(forced.serialize());
    for (const text of ['refund please', 'reset my password please', 'qzxv wkrj']) {
      expect(reloaded.classify(text, 'en')).toEqual(forced.classifier.classify(text, 'en'));
    }
    expect(forced.serialize().equals(trainModel(phrases, { seed: 7, neighbourWeights: [2] }).serialize())).toBe(true);
  });

  it('vectorises as plain TF-IDF over first-seen terms, whether or not a chunk is cached', () => {
    // Reference: count every n-gram in a Map, in order of first occurrence, as the docs describe.
    const config = DEFAULT_FEATURES;
    const space = FeatureSpace.fit(phrases, config);
    const { vocabulary, wordCount, idf, maxIdfWord, maxIdfChar } = space.data;
    const position = new Map(vocabulary.map((term, i) => [term, i]));
    const reference = (text: string) => {
      const { stems, chunks } = analyse(text, 'en');
      const word: string[] = [];
      for (const n of config.wordNgrams) for (let i = 0; i + n <= stems.length; i++) word.push(`${n}|${stems.slice(i, i + n).join(' ')}`);
      const char: string[] = [];
      for (const chunk of chunks) {
        const padded = ` ${chunk} `;
        for (let n = config.charMin; n <= Math.min(config.charMax, padded.length); n++) for (let i = 0; i + n <= padded.length; i++) char.push(padded.slice(i, i + n));
      }
      const indices: number[] = [];
      const values: number[] = [];
      const block = (terms: string[], known: (i: number | undefined) => boolean, unknownIdf: number) => {
        const counts = new Map<string, number>();
        for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
        const start = values.length;
        let norm = 0;
        for (const [term, count] of counts) {
          const i = position.get(term);
          const tf = 1 + Math.log(count);
          if (!known(i)) {
            norm += (tf * unknownIdf) ** 2;
            continue;
          }
          const value = tf * (idf[i as number] as number);
          norm += value * value;
          indices.push(i as number);
          values.push(value);
        }
        for (let k = start; k < values.length; k++) values[k] = (values[k] as number) / Math.sqrt(norm);
      };
      block(word, (i) => i !== undefined && i < wordCount, maxIdfWord);
      block(char, (i) => i !== undefined && i >= wordCount, maxIdfChar);
      return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
    };
    const texts = ['refund refund please, refund!', 'zzqx zzqx my password zzqx', 'refund please', 'password? password. qqqq'];
    // Twice over: the first pass fills the chunk cache, the second reads from it.
    for (const pass of [1, 2]) {
      for (const text of texts) expect(space.vectorize(text, 'en'), `${text} (pass ${pass})`).toEqual(reference(text));
    }
  });

  it('refuses training data without a usable phrase', () => {
    expect(() => trainModel([], { seed: 1 })).toThrowError(/TRAINING_DATA_INVALID/);
    expect(() => trainModel([{ text: 'x', intent: 'a', language: 'fr' as never }])).toThrowError(/language/);
  });
});

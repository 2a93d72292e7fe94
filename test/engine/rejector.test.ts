import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { LabelledPhrase } from '../../bot/classifier.js';
import { DEFAULT_FEATURES, FeatureSpace, type VectorFacts } from '../../bot/engine/features.js';
import { FORMAT_VERSION, loadModel, TRAINER_REVISION, trainerFingerprint, trainModel } from '../../bot/engine/index.js';
import type { LinearModel } from '../../bot/engine/linear-svm.js';
import {
  applyRejector,
  buildIntentCounts,
  countOf,
  fitRejector,
  REJECTOR_SIGNAL_COUNT,
  REJECTOR_SIGNALS,
  rejectorProbability,
  rejectorSignals,
  signalContext,
} from '../../bot/engine/rejector.js';
import { syntheticPhrases, syntheticValidation } from './fixtures.js';

const signal = (out: Float64Array, name: (typeof REJECTOR_SIGNALS)[number]) => out[REJECTOR_SIGNALS.indexOf(name)] as number;

describe('rejector signals on a tiny dataset', () => {
  // Class 0 talks about cards arriving, class 1 about transfers; "fee" occurs once, in class 1 only.
  const phrases: LabelledPhrase[] = [
    { text: 'card arrived late', intent: 'card', language: 'en' },
    { text: 'card has not arrived', intent: 'card', language: 'en' },
    { text: 'transfer money abroad', intent: 'transfer', language: 'en' },
    { text: 'transfer fee charged', intent: 'transfer', language: 'en' },
  ];
  const labels = [0, 0, 1, 1];
  const space = FeatureSpace.fit(phrases, DEFAULT_FEATURES);
  const W = space.data.wordCount;
  const vectors = phrases.map((p) => space.vectorize(p.text, p.language));
  const counts = buildIntentCounts(vectors, labels, 2, W);
  const index = (term: string) => space.data.vocabulary.indexOf(term);
  const card = index('1|card');
  const fee = index('1|fee');
  const linear: LinearModel = { classes: 2, dimension: space.dimension, weights: new Float32Array(space.dimension * 2), bias: new Float32Array(2) };
  linear.weights[fee * 2 + 0] = -2; // "fee" speaks against class 0

  const facts: VectorFacts = { chunks: 0, unknownUnigrams: 0 };
  const message = space.vectorize('card fee', 'en', facts);
  const valueOf = (j: number) => message.values[Array.from(message.indices).indexOf(j)] as number;
  const logits = Float64Array.from([1.5, 0.5]);
  const probabilities = Float64Array.from([0.7, 0.2]);
  const candidates = Int32Array.from([0, 1]);
  const similarity = Float64Array.from([0.6, 0.3]);

  it('counts the phrases of each intent that contain each word feature', () => {
    expect(Array.from(counts.classPhrases)).toEqual([2, 2]);
    expect(countOf(counts, card, 0)).toBe(2);
    expect(countOf(counts, card, 1)).toBe(0);
    expect(countOf(counts, fee, 0)).toBe(0);
    expect(countOf(counts, fee, 1)).toBe(1);
    expect(countOf(counts, index('1|transfer'), 1)).toBe(2);
    expect(countOf(counts, index('2|card arriv'), 0)).toBe(1);
  });

  it('measures the evidence the predicted intent does not explain', () => {
    expect(facts).toEqual({ chunks: 2, unknownUnigrams: 0 });
    const out = new Float64Array(REJECTOR_SIGNAL_COUNT);
    rejectorSignals(signalContext(linear, counts, space.data, null), message, facts, logits, probabilities, candidates, similarity, out);
    const x2 = valueOf(fee) ** 2;
    expect(signal(out, 'logTopConfidence')).toBeCloseTo(Math.log(0.7), 12);
    expect(signal(out, 'topLogit')).toBe(1.5);
    expect(signal(out, 'runnerUpGap')).toBe(1);
    expect(signal(out, 'similarityTop')).toBe(0.6);
    expect(signal(out, 'similarityOther')).toBe(0.3);
    expect(signal(out, 'logLength')).toBeCloseTo(Math.log(2), 12);
    // entropy over 0.7, 0.2 and the "none" mass 0.1
    expect(signal(out, 'entropy')).toBeCloseTo(-(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1)), 12);
    // the bigram "card fee" is unknown: it counts in the norm, so the known share is below 1
    expect(signal(out, 'knownWordShare')).toBeCloseTo(valueOf(card) ** 2 + x2, 6);
    expect(signal(out, 'knownWordShare')).toBeLessThan(0.99);
    // "fee" never occurs in class 0: its mass is unexplained
    expect(signal(out, 'unseenWordMass')).toBeCloseTo(x2, 6);
    expect(signal(out, 'unseenUnigramMass')).toBeCloseTo(x2, 6);
    expect(signal(out, 'maxIdfUnseenUnigram')).toBeCloseTo(space.data.idf[fee] as number, 6);
    // naive-Bayes surprise of "fee" under class 0: df 1 of 4 phrases, 0 of class 0's 2
    expect(signal(out, 'naiveBayesSurprise')).toBeCloseTo(Math.log(2 / 6) - Math.log(1 / 4), 12);
    expect(signal(out, 'naiveBayesSurpriseSharp')).toBeCloseTo(Math.log(1.1 / 4.2) - Math.log(0.1 / 2.2), 12);
    expect(signal(out, 'negativeWordEvidence')).toBeCloseTo(-2 * valueOf(fee), 6);
    expect(signal(out, 'minWordContribution')).toBeCloseTo(-2 * valueOf(fee), 6);
    expect(signal(out, 'negativeCharEvidence')).toBe(0);
    expect(signal(out, 'unknownUnigram')).toBe(0);
  });

  it('counts features absent from a fold\'s training rows as unknown, though they are in the vocabulary', () => {
    const seen = new Uint8Array(space.dimension).fill(1);
    seen[fee] = 0; // as if "fee" belonged only to an intent held out of the fold
    const out = new Float64Array(REJECTOR_SIGNAL_COUNT);
    rejectorSignals(signalContext(linear, counts, space.data, seen), message, facts, logits, probabilities, candidates, similarity, out);
    expect(signal(out, 'knownWordShare')).toBeCloseTo(valueOf(card) ** 2, 6);
    expect(signal(out, 'unseenWordMass')).toBe(0);
    expect(signal(out, 'unknownUnigram')).toBe(1);
    expect(signal(out, 'maxIdfUnseenUnigram')).toBe(space.data.maxIdfWord);
    expect(signal(out, 'naiveBayesSurprise')).toBeCloseTo(Math.log(3 / 6) - Math.log(3 / 4), 12);
  });

  it('reports unknown unigrams from vectorize', () => {
    const f: VectorFacts = { chunks: 0, unknownUnigrams: 0 };
    space.vectorize('card blorf zzz, card', 'en', f);
    expect(f).toEqual({ chunks: 4, unknownUnigrams: 2 });
  });
});

describe('rejector model', () => {
  it('fits a deterministic logistic regression that ranks by the informative signal', () => {
    const rows: Float64Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 200; i++) {
      const x = new Float64Array(REJECTOR_SIGNAL_COUNT);
      x[0] = (i % 20) / 10 - 1; // informative
      x[1] = ((i * 7) % 13) / 13; // noise
      rows.push(x);
      labels.push(x[0]! + (((i * 31) % 17) / 17 - 0.5) > 0 ? 1 : 0);
    }
    const a = fitRejector(rows, labels, 10);
    const b = fitRejector(rows, labels, 10);
    expect(a).toEqual(b);
    expect(a.weights[0]).toBeGreaterThan(1);
    expect(Math.abs(a.weights[1]!)).toBeLessThan(0.5);
    const low = new Float64Array(REJECTOR_SIGNAL_COUNT).fill(0);
    const high = Float64Array.from(low);
    low[0] = -0.8;
    high[0] = 0.8;
    expect(rejectorProbability(a, low)).toBeLessThan(0.2);
    expect(rejectorProbability(a, high)).toBeGreaterThan(0.8);
    // a stronger penalty shrinks the weights
    expect(Math.abs(fitRejector(rows, labels, 1000).weights[0]!)).toBeLessThan(a.weights[0]!);
  });

  it('gives the top intent the rejector probability, keeps the ranking and a total of at most 1', () => {
    for (const [p, q] of [
      [[0.5, 0.3, 0.1], 0.9],
      [[0.5, 0.3, 0.1], 0.2],
      [[0.3, 0.3, 0.2], 0.95],
      [[0.98, 0.01, 0.005], 0.4],
      [[1, 0, 0], 1],
    ] as const) {
      const c = Float64Array.from(p);
      applyRejector(c, 0, q);
      expect(c[0]).toBe(q);
      for (let k = 1; k < c.length; k++) {
        expect(c[k]).toBeGreaterThanOrEqual(0);
        expect(c[k]).toBeLessThanOrEqual(c[k - 1]!);
      }
      expect(c.reduce((s, x) => s + x, 0)).toBeLessThanOrEqual(1 + 1e-12);
    }
    // when the top's share leaves room, the others keep their ratio to the top
    const c = Float64Array.from([0.5, 0.25, 0.1]);
    applyRejector(c, 0, 0.4);
    expect(c[1]).toBeCloseTo(0.2, 12);
  });
});

describe('engine with the learnt rejector', () => {
  const phrases = syntheticPhrases();
  const model = trainModel(phrases, { seed: 3 });

  it('fits a rejector on the cross-validation rows and stores it in a version 3 file', () => {
    const rejector = model.header.rejector;
    expect(rejector).not.toBeNull();
    expect(rejector?.signals).toEqual([...REJECTOR_SIGNALS]);
    expect(rejector?.weights).toHaveLength(REJECTOR_SIGNAL_COUNT);
    expect(rejector?.rows).toBeGreaterThan(rejector?.positives ?? 0);
    expect(rejector?.outOfScope).toBeGreaterThan(0);
    expect(model.metrics.rejector).toEqual({ rows: rejector?.rows, positives: rejector?.positives, outOfScope: rejector?.outOfScope });
    expect(model.header.neighbours).not.toBeNull(); // the similarities are among its signals
    const bytes = model.serialize();
    expect(JSON.parse(bytes.subarray(12, 12 + bytes.readUInt32LE(8)).toString('utf8')).formatVersion).toBe(3);
    expect(FORMAT_VERSION).toBe(3);
  });

  it('has a trainer fingerprint of its own, so shipped models fitted without it are retrained', () => {
    expect(TRAINER_REVISION).toBe(4);
    expect(model.header.trainer).toBe(trainerFingerprint({ seed: 3 }));
    expect(trainerFingerprint({ seed: 3 })).toMatch(/^r4 .*"rejector":true/);
    expect(trainerFingerprint({ seed: 3, rejector: false })).not.toBe(trainerFingerprint({ seed: 3 }));
  });

  it('round-trips the rejector and the intent counts section', () => {
    const loaded = loadModel(model.serialize());
    expect(loaded.info.rejector).toEqual(model.header.rejector);
    expect(loaded.version).toMatch(/^tfidf-ovr-svm@3:/);
    for (const [text, language] of [
      ['forgot my password', 'en'],
      ['what is the weather tomorrow', 'en'],
      ['qzxv wkrj', 'en'],
      ['cancela mi suscripcion ya', 'es'],
    ] as const) {
      expect(loaded.classify(text, language)).toEqual(model.classifier.classify(text, language));
      expect(loaded.classify(text, language, 3)).toEqual(model.classifier.classify(text, language).slice(0, 3));
    }
  });

  it('decides with the rejector: same ranking as without it, other top confidence, confidences in [0, 1]', () => {
    const plain = trainModel(phrases, { seed: 3, rejector: false });
    expect(plain.header.rejector).toBeNull();
    let differs = 0;
    for (const text of ['forgot my password', 'i would like my money back', 'hello, anyone there?', 'the weather is nice', 'music refund']) {
      const a = model.classifier.classify(text, 'en');
      const b = plain.classifier.classify(text, 'en');
      expect(a.map((s) => s.intent)).toEqual(b.map((s) => s.intent));
      if (Math.abs(a[0]!.confidence - b[0]!.confidence) > 1e-9) differs++;
      for (const s of a) expect(s.confidence).toBeGreaterThanOrEqual(0);
      expect(a.reduce((sum, s) => sum + s.confidence, 0)).toBeLessThanOrEqual(1 + 1e-9);
    }
    expect(differs).toBeGreaterThan(0);
    expect(model.header.thresholds.minConfidence).not.toBe(plain.header.thresholds.minConfidence);
  });

  it('is deterministic, with validation data given too', () => {
    const validation = syntheticValidation();
    const a = trainModel(phrases, { seed: 4, validation });
    const b = trainModel(phrases, { seed: 4, validation });
    expect(a.header.rejector).not.toBeNull();
    expect(a.serialize().equals(b.serialize())).toBe(true);
  });

  it('refuses a damaged intent counts section with MODEL_CORRUPT', () => {
    const bytes = model.serialize();
    const body = Buffer.from(bytes.subarray(0, bytes.length - 32));
    // the last i32 is the count of the last (feature, intent) entry: make it exceed that intent's phrases
    body.writeInt32LE(100_000, body.length - 4);
    const damaged = Buffer.concat([body, createHash('sha256').update(body).digest()]);
    expect(() => loadModel(damaged)).toThrowError(/MODEL_CORRUPT: intent counts section/);
  });

  it('still loads a version 2 file written by the previous engine and scores it exactly as before', async () => {
    const bytes = await readFile(new URL('./legacy-models/model-v2.bin', import.meta.url));
    const expected = JSON.parse(await readFile(new URL('./legacy-models/model-v2.expected.json', import.meta.url), 'utf8')) as {
      version: string;
      thresholds: { minConfidence: number; minMargin: number };
      expected: { text: string; language: 'en' | 'es'; scored: { intent: string; confidence: number }[] }[];
    };
    const loaded = loadModel(bytes);
    expect(loaded.version).toBe(expected.version);
    expect(loaded.thresholds).toEqual(expected.thresholds);
    expect(loaded.info.rejector).toBeNull();
    for (const e of expected.expected) expect(loaded.classify(e.text, e.language)).toEqual(e.scored);
  });
});

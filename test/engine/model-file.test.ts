import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, FORMAT_VERSION, intentsHash, loadModel, loadModelFile, trainerFingerprint, trainModel } from '../../bot/engine/index.js';
import { syntheticPhrases } from './fixtures.js';

/**
 * Rewrites the JSON header of a model file (the checksum is left as it was). With `sameLength` the
 * new JSON is padded with spaces to the old length, so the payload keeps its 4-byte alignment.
 */
function withHeader(bytes: Buffer, edit: (header: Record<string, unknown>) => void, sameLength = false): Buffer {
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(12, 12 + length).toString('utf8')) as Record<string, unknown>;
  edit(header);
  let text = JSON.stringify(header);
  if (sameLength) text = text.padEnd(length, ' ');
  const next = Buffer.from(text, 'utf8');
  const size = Buffer.alloc(4);
  size.writeUInt32LE(next.length);
  return Buffer.concat([bytes.subarray(0, 8), size, next, bytes.subarray(12 + length)]);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toBeInstanceOf(Error);
    return (error as EngineError).code;
  }
  return undefined;
}

describe('model file', () => {
  const phrases = syntheticPhrases();
  const model = trainModel(phrases, { seed: 3 });
  const bytes = model.serialize();
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'engine-model-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through a file and checks the intents hash', async () => {
    const file = path.join(dir, 'model.bin');
    await writeFile(file, bytes);
    const loaded = await loadModelFile(file, { expectedIntentsHash: intentsHash(phrases) });
    expect(loaded.classify('forgot my password', 'en')).toEqual(model.classifier.classify('forgot my password', 'en'));
    expect(loaded.thresholds).toEqual(model.classifier.thresholds);
    expect(loaded.version).toContain(`@${FORMAT_VERSION}:`);
    expect(loaded.info.seed).toBe(3);
    expect(bytes.length).toBeLessThan(50 * 1024 * 1024);
    expect((await readFile(file)).equals(bytes)).toBe(true);
  });

  it('refuses a stale model (other intents) with MODEL_STALE', async () => {
    const file = path.join(dir, 'stale.bin');
    await writeFile(file, bytes);
    const other = intentsHash(phrases.slice(0, -1));
    await expect(loadModelFile(file, { expectedIntentsHash: other })).rejects.toThrowError(/MODEL_STALE: .*stale\.bin: model was trained on other intents/);
    await expect(loadModelFile(file, { expectedIntentsHash: other })).rejects.toMatchObject({ code: 'MODEL_STALE' });
  });

  it('refuses a model fitted by another trainer or with other training options with MODEL_STALE', () => {
    expect(model.header.trainer).toBe(trainerFingerprint({ seed: 3 }));
    expect(loadModel(bytes, { expectedTrainer: trainerFingerprint({ seed: 3 }) }).info.seed).toBe(3);
    expect(codeOf(() => loadModel(bytes, { expectedTrainer: trainerFingerprint({ seed: 3, targetOosRecall: null }) }))).toBe('MODEL_STALE');
    expect(() => loadModel(bytes, { expectedTrainer: trainerFingerprint({ seed: 3, foldRuns: 5 }) })).toThrowError(/fitted by another trainer/);
  });

  it('refuses corrupted and truncated files with MODEL_CORRUPT', async () => {
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    expect(codeOf(() => loadModel(flipped))).toBe('MODEL_CORRUPT');
    expect(() => loadModel(flipped)).toThrowError(/checksum/);
    expect(codeOf(() => loadModel(bytes.subarray(0, bytes.length - 100)))).toBe('MODEL_CORRUPT');
    expect(codeOf(() => loadModel(Buffer.from('{"formatVersion":1}')))).toBe('MODEL_CORRUPT');
    expect(codeOf(() => loadModel(Buffer.alloc(0)))).toBe('MODEL_CORRUPT');
    const badJson = Buffer.from(bytes);
    badJson[12] = 0x7e; // first header byte: "{" -> "~"
    expect(codeOf(() => loadModel(badJson))).toBe('MODEL_CORRUPT');
    // an edited header (thresholds) no longer matches the checksum
    expect(codeOf(() => loadModel(withHeader(bytes, (h) => ((h.thresholds as { minConfidence: number }).minConfidence = 0))))).toBe('MODEL_CORRUPT');
    const file = path.join(dir, 'corrupt.bin');
    await writeFile(file, flipped);
    await expect(loadModelFile(file)).rejects.toThrowError(/MODEL_CORRUPT: .*corrupt\.bin/);
  });

  it('refuses another format version or engine with MODEL_FORMAT', () => {
    expect(codeOf(() => loadModel(withHeader(bytes, (h) => (h.formatVersion = FORMAT_VERSION + 1))))).toBe('MODEL_FORMAT');
    expect(() => loadModel(withHeader(bytes, (h) => (h.formatVersion = 99)))).toThrowError(/format version 99 is not supported/);
    expect(codeOf(() => loadModel(withHeader(bytes, (h) => (h.engine = 'other'))))).toBe('MODEL_FORMAT');
  });

  it('still loads a version 1 file (no neighbour section) and scores it without the bonus', () => {
    const plain = trainModel(phrases, { seed: 3, neighbourWeights: [0], rejector: false });
    const v3 = plain.serialize();
    const edited = withHeader(v3.subarray(0, v3.length - 32), (h) => {
      h.formatVersion = 1;
      delete h.neighbours;
      delete h.rejector;
    }, true);
    const v1 = Buffer.concat([edited, createHash('sha256').update(edited).digest()]);
    const loaded = loadModel(v1);
    expect(loaded.version).toMatch(/^tfidf-ovr-svm@1:/);
    expect(loaded.info.neighbours).toBeNull();
    expect(loaded.classify('forgot my password', 'en')).toEqual(plain.classifier.classify('forgot my password', 'en'));
  });

  it('refuses a damaged neighbour section with MODEL_CORRUPT', () => {
    const forced = trainModel(phrases, { seed: 3, neighbourWeights: [1] });
    const good = forced.serialize();
    const edited = withHeader(good.subarray(0, good.length - 32), (h) => {
      (h.neighbours as { nnz: number }).nnz -= 1;
    }, true);
    expect(codeOf(() => loadModel(Buffer.concat([edited, createHash('sha256').update(edited).digest()])))).toBe('MODEL_CORRUPT');
  });

  it('reports a missing file with MODEL_NOT_FOUND', async () => {
    await expect(loadModelFile(path.join(dir, 'nope.bin'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});

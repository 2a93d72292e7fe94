import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyBotContext } from '../bot/bot-context.js';
import { trainModel } from '../bot/engine/index.js';
import { loadBot } from '../bot/load-bot.js';
import { phrasesFromIntents } from '../bot/training-data.js';
import { shippedIntents } from './support/harness.js';

describe('the shipped model file', () => {
  it('is written at first start, reused when it matches, and swapped without a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'model-'));
    const modelFile = path.join(dir, 'shipped.model');
    const logs: string[] = [];
    const first = await loadBot({ intentsDir: 'intents', brand: 'Melodrift', modelFile, log: (m) => logs.push(m) });
    expect(logs.join()).toMatch(/no trained model at .* yet; training one/);
    const written = readFileSync(modelFile);
    const versionBefore = first.bot.modelVersion;

    const again = await loadBot({ intentsDir: 'intents', brand: 'Melodrift', modelFile, log: (m) => logs.push(m) });
    expect(logs).toHaveLength(1); // the matching file was loaded, not retrained
    expect(again.bot.modelVersion).toBe(versionBefore);

    // A broken file is refused on reload and the running model stays in use.
    writeFileSync(modelFile, Buffer.from('not a model'));
    await expect(first.reloadModel()).rejects.toMatchObject({ code: 'MODEL_CORRUPT' });
    expect(first.bot.modelVersion).toBe(versionBefore);

    // Another model for the same intents (a different seed) is swapped in live.
    const phrases = phrasesFromIntents(await shippedIntents(), 'Melodrift');
    writeFileSync(modelFile, trainModel(phrases, { seed: 7 }).serialize());
    const versionAfter = await first.reloadModel();
    expect(versionAfter).not.toBe(versionBefore);
    expect(first.bot.modelVersion).toBe(versionAfter);
    const turn = first.bot.respond({ text: 'I was charged twice this month', language: 'en', context: emptyBotContext() });
    expect(turn.intent).toBe('billing.charged_twice');
    expect(written.length).toBeGreaterThan(1000);
  }, 60_000);

  it('retrains when the file belongs to other intents (stale)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'model-'));
    const modelFile = path.join(dir, 'shipped.model');
    writeFileSync(modelFile, trainModel([
      { text: 'hello there', intent: 'meta.greeting', language: 'en' },
      { text: 'hi', intent: 'meta.greeting', language: 'en' },
      { text: 'bye now', intent: 'meta.goodbye', language: 'en' },
      { text: 'goodbye', intent: 'meta.goodbye', language: 'en' },
    ], { seed: 1 }).serialize());
    const logs: string[] = [];
    const loaded = await loadBot({ intentsDir: 'intents', brand: 'Melodrift', modelFile, log: (m) => logs.push(m) });
    expect(logs.join()).toMatch(/intents|stale/i);
    expect(loaded.bot.respond({ text: 'my card was declined', language: 'en', context: emptyBotContext() }).intent).toBe('billing.payment_declined');
  }, 60_000);
});

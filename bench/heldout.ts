/**
 * npm run bench:heldout — the shipped model on the team's held-out listener messages
 * (test/fixtures/heldout-*.jsonl: never trained on), English and Spanish apart, with the
 * out-of-scope messages of each language. Same figures as `npm run -s eval -- --test FILE --json`.
 */
import { evaluateClassifier, loadModel } from '../bot/engine/index.js';
import { loadIntents } from '../bot/load-intents.js';
import { trainShippedModel } from '../bot/train-classifier.js';
import { phrasesFromIntents } from '../bot/training-data.js';
import { readHeldOut } from '../server/domain/held-out.js';
import { recordBenchmark } from './record.js';
import { round } from './stats.js';

const TARGETS = { en: 0.9, es: 0.85 };

async function main(): Promise<void> {
  const phrases = phrasesFromIntents(await loadIntents('intents'), 'Melodrift');
  const started = Date.now();
  const classifier = loadModel(await trainShippedModel(phrases));
  const trainMs = Date.now() - started;
  const heldOut = await readHeldOut('test/fixtures');
  const rows = (['en', 'es'] as const).map((language) => {
    const test = heldOut.filter((p) => p.language === language);
    const m = evaluateClassifier(classifier, test);
    return {
      language,
      n: m.n,
      oos: test.filter((p) => p.intent === 'oos').length,
      accuracy: round(m.accuracy, 4),
      inScopeAccuracy: round(m.inScopeAccuracy, 4),
      coverage: round(m.coverage, 4),
      oosRecall: m.oosRecall === null ? null : round(m.oosRecall, 4),
      wrongAnswerRate: round(m.wrongAnswerRate, 4),
      classifyP99Us: round(m.classifyP99Us, 1),
    };
  });
  const result = { benchmark: 'heldout', trainPhrases: phrases.length, trainMs, threshold: round(classifier.thresholds.minConfidence, 4), rows };
  console.log(JSON.stringify(result));
  const met = (r: (typeof rows)[number]) =>
    r.inScopeAccuracy >= TARGETS[r.language] && r.wrongAnswerRate <= 0.03 && (r.oosRecall ?? 0) >= 0.8 ? 'yes' : 'no';
  await recordBenchmark(
    'heldout',
    'npm run bench:heldout',
    [
      `The shipped model (${phrases.length} phrases from intents/, trained in ${trainMs} ms) on the held-out listener messages in test/fixtures (11 English and 5-6 Spanish per intent, plus 40 English and 20 Spanish out-of-scope), never used for training. Targets: in-scope accuracy ≥ 0.90 (en) / ≥ 0.85 (es), wrong answers ≤ 0.03, out-of-scope recall ≥ 0.80.`,
      '',
      '| language | n | of which oos | accuracy | in-scope acc. | coverage | oos recall | wrong answers | classify p99 | targets met |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.language} | ${r.n} | ${r.oos} | ${r.accuracy} | ${r.inScopeAccuracy} | ${r.coverage} | ${r.oosRecall ?? '–'} | ${r.wrongAnswerRate} | ${r.classifyP99Us} µs | ${met(r)} |`),
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

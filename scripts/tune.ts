/**
 * npm run tune -- --server http://localhost:3000 --email analyst@example.com [--password P] [--approve-all] [--accept-labelled] [--train] [--promote]
 * One tuning round through the server's API as an analyst (so it works with either store):
 * proposes policy changes from CSAT, refreshes the review list, and, when asked, approves,
 * accepts, trains a candidate model and promotes it (refused when it is worse).
 * The password may come from TUNE_PASSWORD.
 */
import { parseArgs } from 'node:util';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: 'http://localhost:3000' },
      email: { type: 'string' },
      password: { type: 'string' },
      'approve-all': { type: 'boolean', default: false },
      'accept-labelled': { type: 'boolean', default: false },
      train: { type: 'boolean', default: false },
      promote: { type: 'boolean', default: false },
    },
  });
  const password = values.password ?? process.env.TUNE_PASSWORD;
  if (!values.email || !password) {
    console.error('usage: npm run tune -- --server URL --email E [--password P | TUNE_PASSWORD=…] [--approve-all] [--accept-labelled] [--train] [--promote]');
    return 2;
  }
  const base = values.server.replace(/\/$/, '');
  const login = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: values.email, password }) });
  if (!login.ok) {
    console.error(`sign-in failed: ${login.status} ${JSON.stringify(await login.json().catch(() => ({})))}`);
    return 1;
  }
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  async function api(method: string, path: string, body?: unknown): Promise<any> {
    const response = await fetch(`${base}${path}`, { method, headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${json.code}: ${json.message}`);
    return json;
  }

  const { proposals, candidates } = await api('POST', '/api/tuning/run');
  console.log(`${proposals.length} policy proposal(s) from CSAT:`);
  for (const p of proposals) {
    const e = p.evidence;
    console.log(`  ${p.id} ${p.intent}: ${p.kind} ${JSON.stringify(p.from)} -> ${JSON.stringify(p.to)}; bot CSAT ${e.botCsat} (n ${e.botN}, ${e.botLow}-${e.botHigh}) vs agents ${e.agentCsat} (n ${e.agentN}, ${e.agentLow}-${e.agentHigh}); handoffs ${(e.handoffRate * 100).toFixed(0)}%`);
    if (values['approve-all']) console.log(`    approved: ${(await api('POST', `/api/tuning/proposals/${p.id}`, { approve: true })).proposal.status}`);
  }
  console.log(`${candidates.length} training candidate(s) in the review list (heaviest first):`);
  for (const c of candidates.slice(0, 20)) {
    console.log(`  ${c.id} [${c.status}] w=${c.weight} ${c.language} ${c.intent ?? '(needs a label)'}: ${c.text}`);
    if (values['accept-labelled'] && c.status === 'pending' && c.intent) await api('POST', `/api/tuning/candidates/${c.id}`, { action: 'accept' });
  }
  if (values.train) {
    const { model } = await api('POST', '/api/tuning/models');
    const d = (a: number, b: number) => `${a.toFixed(3)} (${a >= b ? '+' : ''}${((a - b) * 100).toFixed(1)} points)`;
    console.log(`candidate model ${model.version}: in-scope accuracy ${d(model.evaluation.inScopeAccuracy, model.baseline.inScopeAccuracy)}, wrong answers ${d(model.evaluation.wrongAnswerRate, model.baseline.wrongAnswerRate)} vs ${model.baseline.version}`);
    if (values.promote) {
      try {
        await api('POST', `/api/tuning/models/${model.version}/promote`);
        console.log(`promoted ${model.version}; every node loads it now`);
      } catch (error) {
        console.log(`not promoted: ${(error as Error).message}`);
      }
    }
  }
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});

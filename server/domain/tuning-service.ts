import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { LabelledPhrase } from '../../bot/classifier.js';
import { evaluateClassifier, loadModel, type TimedEvaluation } from '../../bot/engine/index.js';
import { trainShippedModel } from '../../bot/train-classifier.js';
import { languageSchema, type Language } from '../../bot/language.js';
import { intentOverrideSchema } from '../../bot/policy-overrides.js';
import { AppError } from '../errors.js';
import { redactPii, type RedactionPolicy } from './redaction.js';
import { readAllEvents, type ChatStore } from '../store/chat-store.js';
import { csatByIntent, intentOf } from './csat-analytics.js';
import type { SurveyRecord } from './csat.js';

export const tuningPolicySchema = z.object({ version: z.number().int().min(0), intents: z.record(z.string(), intentOverrideSchema) });
export type TuningPolicy = z.infer<typeof tuningPolicySchema>;

const proposalSchema = z.object({
  id: z.string(),
  intent: z.string(),
  kind: z.enum(['raise_threshold', 'switch_to_handoff', 'lower_threshold']),
  from: intentOverrideSchema,
  to: intentOverrideSchema,
  evidence: z.object({
    botN: z.number(),
    botCsat: z.number().nullable(),
    botLow: z.number().nullable(),
    botHigh: z.number().nullable(),
    agentN: z.number(),
    agentCsat: z.number().nullable(),
    agentLow: z.number().nullable(),
    agentHigh: z.number().nullable(),
    handoffRate: z.number(),
    conversations: z.number(),
  }),
  reason: z.string(),
  status: z.enum(['proposed', 'applied', 'rejected', 'superseded']),
  createdBy: z.string(),
  createdAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export type Proposal = z.infer<typeof proposalSchema>;

const candidateSchema = z.object({
  id: z.string(),
  text: z.string(),
  language: languageSchema,
  /** The intent an agent confirmed or corrected, or an analyst's label; null until labelled. */
  intent: z.string().nullable(),
  source: z.enum(['agent_close', 'not_understood']),
  conversations: z.array(z.string()),
  /** How many low-CSAT (rating 3 or less) or handed-off chats it stands for: the ranking. */
  weight: z.number(),
  status: z.enum(['pending', 'needs_label', 'accepted', 'rejected']),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});
export type Candidate = z.infer<typeof candidateSchema>;

const modelVersionSchema = z.object({
  version: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  acceptedCandidates: z.number(),
  phrases: z.number(),
  evaluation: z.object({ inScopeAccuracy: z.number(), accuracy: z.number(), wrongAnswerRate: z.number(), oosRecall: z.number().nullable(), n: z.number() }),
  baseline: z.object({ version: z.string(), inScopeAccuracy: z.number(), accuracy: z.number(), wrongAnswerRate: z.number(), oosRecall: z.number().nullable() }).nullable(),
  status: z.enum(['candidate', 'promoted', 'retired']),
});
export type ModelVersion = z.infer<typeof modelVersionSchema>;

const pointerSchema = z.object({ current: z.string().nullable(), history: z.array(z.string()) });

export const TUNING_CHANNEL = 'tuning';

/** Rules of the policy step (documented in docs/tuning.md). */
export const TUNING_RULES = {
  minBotAnswers: 5,
  minAgentAnswers: 5,
  raiseBy: 0.1,
  /** Past this threshold a further raise becomes a switch to handoff. */
  handoffAbove: 0.9,
  lowerBy: 0.05,
  /** "Handoffs are frequent": at least this share of the intent's conversations reached a person. */
  frequentHandoffs: 0.3,
  /** A candidate model is "not worse" within these margins. */
  tolerance: 0.005,
};

export interface TuningDeps {
  store: ChatStore;
  /** The shipped training phrases (intent files). */
  basePhrases: () => LabelledPhrase[];
  /** Held-out labelled messages (never trained on) for comparing models. */
  heldOut: () => Promise<LabelledPhrase[]>;
  /** The model bytes in use when no tuned version has been promoted. */
  shippedModel: () => Promise<Buffer>;
  /** Personal data in candidate phrases is masked before they are stored. */
  redaction?: RedactionPolicy;
  now?: () => Date;
}

function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 16);
}

function metricsOf(evaluation: TimedEvaluation) {
  return { inScopeAccuracy: evaluation.inScopeAccuracy, accuracy: evaluation.accuracy, wrongAnswerRate: evaluation.wrongAnswerRate, oosRecall: evaluation.oosRecall, n: evaluation.n };
}

/**
 * The tuning loop: CSAT-driven policy proposals, training candidates from agents' resolutions
 * and analysts' labels, candidate models evaluated against the current one, promotion and
 * rollback. Every step is logged with who and when.
 */
export function createTuningService(deps: TuningDeps) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const iso = () => now().toISOString();

  async function log(action: string, by: string, detail: Record<string, unknown>): Promise<void> {
    const at = iso();
    await store.putRecord('tuning_log', `${at}-${stableId(action, by, JSON.stringify(detail), String(Math.random()))}`, { at, by, action, detail });
  }

  async function policy(): Promise<TuningPolicy> {
    const raw = await store.getRecord('tuning', 'policy');
    return raw ? tuningPolicySchema.parse(raw) : { version: 0, intents: {} };
  }

  async function pointer() {
    const raw = await store.getRecord('model', 'pointer');
    return raw ? pointerSchema.parse(raw) : { current: null, history: [] };
  }

  async function notify(what: 'policy' | 'model'): Promise<void> {
    await store.publish(TUNING_CHANNEL, { type: what }).catch(() => {});
  }

  const readAll = (conversationId: string) => readAllEvents(store, conversationId);

  async function modelBytes(version: string | null): Promise<Buffer> {
    if (version === null) return deps.shippedModel();
    const bytes = await store.getModel(version);
    if (!bytes) throw new AppError('NOT_FOUND', `Model ${version} is not stored.`);
    return bytes;
  }

  return {
    policy,
    pointer,

    /** Step 1: per-intent policy changes from CSAT evidence, shown for approval (nothing applies yet). */
    async proposePolicyChanges(by: string): Promise<Proposal[]> {
      const surveys = await store.listSurveys();
      const current = await policy();
      const rows = csatByIntent(surveys).rows;
      const modelThreshold = loadModel((await this.currentModelBytes()).bytes).thresholds.minConfidence;
      const proposals: Proposal[] = [];
      for (const row of rows) {
        if (!row.intent || row.intent.startsWith('meta.')) continue;
        const members = surveys.filter((s: SurveyRecord) => intentOf(s) === row.intent);
        const handoffRate = members.length === 0 ? 0 : members.filter((s) => s.handoffReason !== null).length / members.length;
        const from = current.intents[row.intent] ?? {};
        const evidence = { botN: row.bot_n, botCsat: row.bot_csat, botLow: row.bot_low, botHigh: row.bot_high, agentN: row.agent_n, agentCsat: row.agent_csat, agentLow: row.agent_low, agentHigh: row.agent_high, handoffRate, conversations: members.length };
        const enough = row.bot_n >= TUNING_RULES.minBotAnswers && row.agent_n >= TUNING_RULES.minAgentAnswers;
        if (!enough || from.handoff) continue;
        // A raise starts from what the bot already uses: the override, else the model's own threshold.
        const threshold = from.minConfidence ?? modelThreshold;
        let proposal: Pick<Proposal, 'kind' | 'to' | 'reason'> | null = null;
        if (row.differs && row.higher === 'agent') {
          proposal =
            threshold + TUNING_RULES.raiseBy > TUNING_RULES.handoffAbove
              ? { kind: 'switch_to_handoff', to: { ...from, handoff: true }, reason: "The bot's CSAT for this intent is reliably below the agents' (the 95% intervals do not overlap), and its threshold is already high." }
              : { kind: 'raise_threshold', to: { ...from, minConfidence: Math.round((threshold + TUNING_RULES.raiseBy) * 100) / 100 }, reason: "The bot's CSAT for this intent is reliably below the agents' (the 95% intervals do not overlap)." };
        } else if (!row.differs && handoffRate >= TUNING_RULES.frequentHandoffs && from.minConfidence !== undefined && from.minConfidence > modelThreshold) {
          proposal = { kind: 'lower_threshold', to: { ...from, minConfidence: Math.max(modelThreshold, Math.round((threshold - TUNING_RULES.lowerBy) * 100) / 100) }, reason: "The bot's CSAT matches the agents' for this intent and handoffs are frequent." };
        }
        if (!proposal) continue;
        proposals.push({ id: `prop_${stableId(row.intent, String(current.version), proposal.kind)}`, intent: row.intent, from, evidence, status: 'proposed', createdBy: by, createdAt: iso(), decidedBy: null, decidedAt: null, ...proposal });
      }
      for (const existing of await store.listRecords('proposal')) {
        const old = proposalSchema.parse(existing.data);
        if (old.status === 'proposed' && !proposals.some((p) => p.id === old.id)) await store.putRecord('proposal', old.id, { ...old, status: 'superseded' });
      }
      for (const proposal of proposals) await store.putRecord('proposal', proposal.id, proposal);
      await log('policy.proposed', by, { proposals: proposals.map((p) => ({ id: p.id, intent: p.intent, kind: p.kind })) });
      return proposals;
    },

    async listProposals(): Promise<Proposal[]> {
      return (await store.listRecords('proposal')).map((r) => proposalSchema.parse(r.data)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    },

    async decideProposal(id: string, approve: boolean, by: string): Promise<Proposal> {
      const raw = await store.getRecord('proposal', id);
      if (!raw) throw new AppError('NOT_FOUND', 'No such proposal.');
      const proposal = proposalSchema.parse(raw);
      if (proposal.status !== 'proposed') throw new AppError('INVALID_TRANSITION', `This proposal is already ${proposal.status}.`);
      const decided: Proposal = { ...proposal, status: approve ? 'applied' : 'rejected', decidedBy: by, decidedAt: iso() };
      if (approve) {
        const current = await policy();
        await store.putRecord('tuning', 'policy', { version: current.version + 1, intents: { ...current.intents, [proposal.intent]: proposal.to } });
      }
      await store.putRecord('proposal', id, decided);
      await log(approve ? 'policy.applied' : 'policy.rejected', by, { id, intent: proposal.intent, from: proposal.from, to: proposal.to });
      if (approve) await notify('policy');
      return decided;
    },

    /** Step 2: training candidates from agents' resolutions and not-understood messages. */
    async refreshCandidates(by: string): Promise<Candidate[]> {
      const surveys = new Map((await store.listSurveys()).map((s) => [s.conversationId, s]));
      const resolutions = await store.listItems('resolution', 10_000);
      const found = new Map<string, Candidate>();
      const add = (text: string, language: Language, intent: string | null, source: Candidate['source'], conversationId: string) => {
        const clean = redactPii(text.replace(/\s+/g, ' ').trim(), deps.redaction).text;
        if (clean.length < 3 || clean.length > 300) return;
        // One candidate per text and language, whoever suggested it; an agent's label wins over none.
        const id = `cand_${stableId(clean.toLowerCase(), language)}`;
        const survey = surveys.get(conversationId);
        const counts = survey && (survey.handoffReason !== null || (survey.rating !== null && survey.rating <= 3)) ? 1 : 0;
        const existing = found.get(id);
        if (existing && existing.intent === null && intent !== null) Object.assign(existing, { intent, source, status: 'pending' as const });
        if (existing) {
          if (!existing.conversations.includes(conversationId)) {
            existing.conversations.push(conversationId);
            existing.weight += counts;
          }
          return;
        }
        found.set(id, { id, text: clean, language, intent, source, conversations: [conversationId], weight: counts, status: intent ? 'pending' : 'needs_label', decidedBy: null, decidedAt: null });
      };
      for (const item of resolutions) {
        const conversationId = String(item.data.conversationId ?? '');
        const intent = typeof item.data.intent === 'string' ? item.data.intent : null;
        if (!conversationId || !intent || intent.startsWith('meta.')) continue;
        const events = await readAll(conversationId);
        const firstQueued = events.find((e) => e.type === 'conversation.state' && e.to === 'queued');
        const listener = events.filter((e) => e.type === 'message.new' && e.author === 'listener' && (!firstQueued || e.seq < firstQueued.seq));
        const language = (item.data.language === 'es' ? 'es' : 'en') as Language;
        // The messages the bot saw before the handoff are what it should have understood.
        // Taps on quick replies are labels, not the listener's words: they teach nothing.
        for (const message of listener.filter((m) => m.type === 'message.new' && m.quickReply === undefined).slice(0, 3)) {
          if (message.type === 'message.new') add(message.text, language, intent, 'agent_close', conversationId);
        }
      }
      for (const survey of surveys.values()) {
        const events = await readAll(survey.conversationId);
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          if (!event || event.type !== 'message.new' || event.author !== 'listener' || event.quickReply !== undefined) continue;
          const reply = events.slice(i + 1).find((e) => e.type === 'message.new' && e.author === 'bot');
          if (reply && reply.type === 'message.new' && reply.understanding?.outcome === 'not_understood') add(event.text, survey.language, null, 'not_understood', survey.conversationId);
        }
      }
      // Decisions already taken stay; new evidence only adds weight.
      const result: Candidate[] = [];
      for (const candidate of found.values()) {
        const previous = await store.getRecord('candidate', candidate.id);
        const merged = previous ? { ...candidateSchema.parse(previous), conversations: candidate.conversations, weight: candidate.weight } : candidate;
        await store.putRecord('candidate', candidate.id, merged);
        result.push(merged);
      }
      await log('candidates.refreshed', by, { count: result.length });
      return result.sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1));
    },

    async listCandidates(): Promise<Candidate[]> {
      return (await store.listRecords('candidate')).map((r) => candidateSchema.parse(r.data)).sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : 1));
    },

    /** accept / reject / relabel (relabel = accept with another intent). */
    async reviewCandidate(id: string, decision: { action: 'accept' | 'reject' | 'relabel'; intent?: string }, by: string): Promise<Candidate> {
      const raw = await store.getRecord('candidate', id);
      if (!raw) throw new AppError('NOT_FOUND', 'No such candidate.');
      const candidate = candidateSchema.parse(raw);
      const intent = decision.action === 'relabel' ? decision.intent ?? null : candidate.intent;
      if (decision.action !== 'reject' && !intent) throw new AppError('VALIDATION_FAILED', 'Label the phrase with an intent before accepting it.');
      const reviewed: Candidate = { ...candidate, intent, status: decision.action === 'reject' ? 'rejected' : 'accepted', decidedBy: by, decidedAt: iso() };
      await store.putRecord('candidate', id, reviewed);
      await log(`candidate.${decision.action}`, by, { id, text: candidate.text, intent });
      return reviewed;
    },

    /** Step 3: trains a candidate model with the accepted phrases and compares it with the current one on held-out data. */
    async trainCandidate(by: string): Promise<ModelVersion> {
      const accepted = (await this.listCandidates()).filter((c) => c.status === 'accepted' && c.intent);
      const phrases: LabelledPhrase[] = [...deps.basePhrases(), ...accepted.map((c) => ({ text: c.text, intent: c.intent!, language: c.language }))];
      const bytes = await trainShippedModel(phrases);
      const heldOut = await deps.heldOut();
      const candidate = metricsOf(evaluateClassifier(loadModel(bytes), heldOut));
      const { current } = await pointer();
      const baseline = metricsOf(evaluateClassifier(loadModel(await modelBytes(current)), heldOut));
      const version = `m${now().getTime().toString(36)}-${stableId(bytes.toString('base64').slice(0, 4096), String(bytes.length)).slice(0, 6)}`;
      const record: ModelVersion = {
        version,
        createdAt: iso(),
        createdBy: by,
        acceptedCandidates: accepted.length,
        phrases: phrases.length,
        evaluation: candidate,
        baseline: { version: current ?? 'shipped', inScopeAccuracy: baseline.inScopeAccuracy, accuracy: baseline.accuracy, wrongAnswerRate: baseline.wrongAnswerRate, oosRecall: baseline.oosRecall },
        status: 'candidate',
      };
      await store.saveModel(version, bytes);
      await store.putRecord('model', version, record);
      await log('model.trained', by, { version, evaluation: candidate, baseline: record.baseline });
      return record;
    },

    async listModels(): Promise<ModelVersion[]> {
      return (await store.listRecords('model')).filter((r) => r.id !== 'pointer').map((r) => modelVersionSchema.parse(r.data)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    },

    /** Promotes a candidate only when it is not worse than the model in use; every node loads it without restart. */
    async promote(version: string, by: string): Promise<ModelVersion> {
      const raw = await store.getRecord('model', version);
      if (!raw) throw new AppError('NOT_FOUND', 'No such model version.');
      const model = modelVersionSchema.parse(raw);
      const base = model.baseline;
      // "Not worse" allows at most the difference one held-out message makes (or the fixed tolerance, if larger).
      const tolerance = Math.max(TUNING_RULES.tolerance, 1 / Math.max(1, model.evaluation.n));
      if (base && (model.evaluation.inScopeAccuracy < base.inScopeAccuracy - tolerance || model.evaluation.wrongAnswerRate > base.wrongAnswerRate + tolerance)) {
        throw new AppError('VALIDATION_FAILED', `Model ${version} is worse than the one in use (in-scope accuracy ${model.evaluation.inScopeAccuracy.toFixed(3)} vs ${base.inScopeAccuracy.toFixed(3)}, wrong answers ${model.evaluation.wrongAnswerRate.toFixed(3)} vs ${base.wrongAnswerRate.toFixed(3)}); not promoted.`);
      }
      const current = await pointer();
      if (current.current) {
        const previous = await store.getRecord('model', current.current);
        if (previous) await store.putRecord('model', current.current, { ...previous, status: 'retired' });
      }
      await store.putRecord('model', 'pointer', { current: version, history: current.current ? [...current.history, current.current] : current.history });
      const promoted = { ...model, status: 'promoted' as const };
      await store.putRecord('model', version, promoted);
      await log('model.promoted', by, { version, from: current.current ?? 'shipped' });
      await notify('model');
      return promoted;
    },

    /** Back to the version before the current one (or the shipped model). */
    async rollback(by: string): Promise<string> {
      const current = await pointer();
      if (!current.current) throw new AppError('INVALID_TRANSITION', 'The shipped model is in use; there is nothing to roll back.');
      const previous = current.history.at(-1) ?? null;
      await store.putRecord('model', 'pointer', { current: previous, history: current.history.slice(0, -1) });
      const was = await store.getRecord('model', current.current);
      if (was) await store.putRecord('model', current.current, { ...was, status: 'retired' });
      if (previous) {
        const record = await store.getRecord('model', previous);
        if (record) await store.putRecord('model', previous, { ...record, status: 'promoted' });
      }
      await log('model.rolled_back', by, { from: current.current, to: previous ?? 'shipped' });
      await notify('model');
      return previous ?? 'shipped';
    },

    /** The bytes of the model that should be in use now. */
    async currentModelBytes(): Promise<{ version: string; bytes: Buffer }> {
      const { current } = await pointer();
      return { version: current ?? 'shipped', bytes: await modelBytes(current) };
    },

    async history(): Promise<{ at: string; by: string; action: string; detail: unknown }[]> {
      return (await store.listRecords('tuning_log')).map((r) => r.data as { at: string; by: string; action: string; detail: unknown }).sort((a, b) => (a.at < b.at ? 1 : -1));
    },
  };
}

export type TuningService = ReturnType<typeof createTuningService>;

import { surveyRecordSchema, type HandledBy, type SurveyRecord } from '../../server/domain/csat.js';

let counter = 0;

/** A survey record for analytics tests: answered when `rating` is set, at `endedAt`. */
export function surveyRecord(handledBy: HandledBy, agentIds: string[], rating: number | null, endedAt: string, fields: Partial<SurveyRecord> = {}): SurveyRecord {
  counter += 1;
  return surveyRecordSchema.parse({
    v: 1,
    conversationId: `conv_fixture${String(counter).padStart(5, '0')}`,
    startedAt: endedAt,
    endedAt,
    endReason: handledBy === 'bot' ? 'resolved_by_bot' : 'closed_by_agent:resolved',
    handledBy,
    agentIds,
    botIntents: ['billing.refund'],
    agentIntent: null,
    language: 'en',
    handoffReason: handledBy === 'bot' ? null : 'requested',
    waitMs: null,
    rating,
    comment: null,
    resolved: null,
    answeredAt: rating === null ? null : endedAt,
    ...fields,
  });
}

import { z } from 'zod';
import { languageSchema } from '../../bot/language.js';

/** A staff account as stored (Redis, the accounts file): parsed again whenever it is read back. */
export const agentAccountSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(['agent', 'analyst', 'admin']),
  languages: z.array(languageSchema),
  capacity: z.number().int().positive(),
  passwordHash: z.string(),
  createdAt: z.string(),
});

import { z } from 'zod';

export const languageSchema = z.enum(['en', 'es']);
export type Language = z.infer<typeof languageSchema>;
export const LANGUAGES: readonly Language[] = languageSchema.options;

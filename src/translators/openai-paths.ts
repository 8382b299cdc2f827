import type { ApiKind } from '../contracts/request.ts';

// Paths of the OpenAI API relative to a provider's base URL (which ends in /v1 or equivalent).
export const OPENAI_PATHS: Readonly<Partial<Record<ApiKind, string>>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
};

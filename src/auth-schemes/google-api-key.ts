import type { OutgoingRequest } from '../contracts/upstream.ts';

// Google API-key authentication (Gemini API): the key travels in the x-goog-api-key header rather than
// the `?key=` query parameter, so it never lands in access logs that record URLs.

export const GOOGLE_API_KEY_HEADER = 'x-goog-api-key';

export function applyGoogleApiKey(req: OutgoingRequest, apiKey: string): void {
  req.headers[GOOGLE_API_KEY_HEADER] = apiKey;
}

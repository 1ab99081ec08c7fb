// Slack's wire conventions as the stand-in speaks them: request parameters (form or JSON, JSON-encoded form
// fields), loose scalar reading, and answers (`{ ok: false, error }` on HTTP 200, or a plain status).
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Params = Record<string, unknown>;

export interface ApiAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: Record<string, unknown> | string;
}

/** Thrown by a Web API method; answered as `{ ok: false, error, ...extra }`. */
export class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

/** Form fields Slack (and @slack/web-api) send as JSON strings. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view', 'unfurls', 'user_auth_blocks']);

export function parseForm(raw: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k) && /^\s*[[{]/.test(v)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // keep the string; validation will complain
      }
    }
    out[k] = v;
  }
  return out;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

export function blocksParam(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** The media type of a request, lower-cased, without parameters (`application/json`). */
export function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, answer: ApiAnswer): void {
  const isText = typeof answer.body === 'string';
  const payload = isText ? (answer.body as string) : JSON.stringify(answer.body);
  res.writeHead(answer.status ?? 200, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...answer.headers,
  });
  res.end(payload);
}

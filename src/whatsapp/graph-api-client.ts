import { z } from 'zod';
import { fetchExchange, type HttpExchange, undiciExchange } from './http-exchange.ts';

/** The Cloud API's messages endpoint, as sent by the business: the outbound half of the WhatsApp port. */
export interface GraphApiClient {
  sendMessage(request: SendMessageRequest): Promise<{ wamid: string }>;
  /** Shows the customer's message as read (blue ticks), and optionally "typing…" until the reply or 25 s. */
  markAsRead(request: MarkAsReadRequest): Promise<void>;
}

interface PhoneNumberCredentials {
  phoneNumberId: string;
  accessToken: string;
}

interface SendMessageRequest extends PhoneNumberCredentials {
  /** The customer's wa_id. */
  to: string;
  message: OutboundMessage;
}

interface MarkAsReadRequest extends PhoneNumberCredentials {
  /** The customer's message, as its webhook gave it; earlier messages of the chat are marked read with it. */
  wamid: string;
  typingIndicator?: boolean;
}

/** The message object of the request body, in Meta's own field names so it goes over the wire as is. */
export type OutboundMessage =
  | { type: 'text'; text: { body: string; preview_url?: boolean } }
  | {
      type: 'template';
      template: { name: string; language: { code: string }; components?: TemplateComponent[] };
    }
  | { type: 'interactive'; interactive: InteractiveContent };

interface TemplateComponent {
  type: 'header' | 'body' | 'button';
  /** Button components only: the kind of button and its 0-based position in the template. */
  sub_type?: 'quick_reply' | 'url';
  index?: number;
  parameters: TemplateParameter[];
}

type MediaReference = { link: string } | { id: string };

type TemplateParameter =
  | { type: 'text'; text: string; parameter_name?: string }
  | { type: 'payload'; payload: string }
  | { type: 'image'; image: MediaReference }
  | { type: 'video'; video: MediaReference }
  | { type: 'document'; document: MediaReference & { filename?: string } };

interface InteractiveText {
  text: string;
}

interface InteractiveFrame {
  header?: { type: 'text'; text: string };
  body: InteractiveText;
  footer?: InteractiveText;
}

type InteractiveContent =
  | (InteractiveFrame & {
      type: 'button';
      action: { buttons: { type: 'reply'; reply: { id: string; title: string } }[] };
    })
  | (InteractiveFrame & {
      type: 'list';
      action: {
        /** The label of the button that opens the list. */
        button: string;
        sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[];
      };
    });

export interface GraphApiErrorFields {
  /** The HTTP status; 0 when no answer came (network error, timeout). */
  status: number;
  /** Meta's error code, e.g. 131047; absent when the answer was not a Graph API error body. */
  code?: number;
  subcode?: number;
  /** Meta's title, taken from its message: "(#131047) Re-engagement message" → "Re-engagement message". */
  title: string;
  /** `error_data.details`: the explanation Meta gives for WhatsApp errors. */
  details?: string;
  /** Meta's support id for this failure; quote it when asking Meta about it. */
  fbtraceId?: string;
  /** Whether the same request may succeed later. */
  retryable: boolean;
  /** The wait the server asked for in `Retry-After`. */
  retryAfterMs?: number;
}

/** A failed Graph API call. Its message never holds the access token, so it can be logged as is. */
export class GraphApiError extends Error implements GraphApiErrorFields {
  override readonly name = 'GraphApiError';
  readonly status: number;
  readonly code: number | undefined;
  readonly subcode: number | undefined;
  readonly title: string;
  readonly details: string | undefined;
  readonly fbtraceId: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, fields: GraphApiErrorFields, options?: ErrorOptions) {
    super(message, options);
    this.status = fields.status;
    this.code = fields.code;
    this.subcode = fields.subcode;
    this.title = fields.title;
    this.details = fields.details;
    this.fbtraceId = fields.fbtraceId;
    this.retryable = fields.retryable;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

export interface GraphApiClientOptions {
  /** Up to and including the API version. */
  baseUrl?: string;
  /** Sends through this fetch instead of undici's request API (tests script answers no server gives). */
  fetch?: typeof fetch;
  /** For the whole exchange, body included. */
  timeoutMs?: number;
}

/**
 * Meta codes that mean "later" although they come with a 4xx status (Meta answers its rate limits with
 * 400, not 429): throughput 130429, pair rate 131056, rate-limit issues 80007, application request limit 4,
 * and the transient unknown/service errors 1 and 2. Everything else in 4xx (131047 outside the 24-hour
 * window, 131026 undeliverable, 100 invalid parameter, 190 token) fails the same way every time.
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131056]);

const SendResponse = z.object({ messages: z.array(z.object({ id: z.string().min(1) })).min(1) });

// Each field is read on its own (`catch`): one odd field must not cost the code that decides the retry.
const ErrorBody = z.object({
  error: z.object({
    message: z.string().optional().catch(undefined),
    code: z.number().optional().catch(undefined),
    error_subcode: z.number().optional().catch(undefined),
    // An object for messaging errors; the template API sends a plain string instead.
    error_data: z
      .union([z.object({ details: z.string().optional().catch(undefined) }), z.string()])
      .optional()
      .catch(undefined),
    fbtrace_id: z.string().optional().catch(undefined),
  }),
});

const TITLE_PREFIX = /^\(#\d+\)\s*/;

export function createGraphApiClient({
  baseUrl = 'https://graph.facebook.com/v23.0',
  fetch: fetchImpl,
  timeoutMs = 10_000,
}: GraphApiClientOptions = {}): GraphApiClient {
  const root = baseUrl.replace(/\/+$/, '');
  const exchange = fetchImpl ? fetchExchange(fetchImpl) : undiciExchange();

  const post = async (
    { phoneNumberId, accessToken }: PhoneNumberCredentials,
    body: Record<string, unknown>,
  ): Promise<{ status: number; json: unknown }> => {
    const url = `${root}/${encodeURIComponent(phoneNumberId)}/messages`;
    let answer: Awaited<ReturnType<HttpExchange>>;
    // A timer cleared with the answer, not AbortSignal.timeout: that one fires for every request, answered or
    // not, and aborting a finished request (a DOMException with its stack, a destroyed stream) is costly.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      answer = await exchange(url, {
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messaging_product: 'whatsapp', ...body }),
        signal: controller.signal,
      });
    } catch (error) {
      throw noAnswerError(error, timedOut, timeoutMs, accessToken);
    } finally {
      clearTimeout(timer);
    }
    if (answer.status < 200 || answer.status > 299) throw answerError(answer, accessToken);
    return { status: answer.status, json: parseJson(answer.text) };
  };

  return {
    async sendMessage({ to, message, ...credentials }) {
      const { status, json } = await post(credentials, { recipient_type: 'individual', to, ...message });
      const answer = SendResponse.safeParse(json);
      // Meta took the request but the wamid is unreadable: a retry could send the message twice.
      if (!answer.success) {
        throw new GraphApiError('Graph API accepted the message but its answer has no message id', {
          status,
          title: 'Unexpected response',
          retryable: false,
        });
      }
      return { wamid: answer.data.messages[0]!.id };
    },

    async markAsRead({ wamid, typingIndicator = false, ...credentials }) {
      await post(credentials, {
        status: 'read',
        message_id: wamid,
        ...(typingIndicator ? { typing_indicator: { type: 'text' } } : {}),
      });
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Error text can come from elsewhere (Meta, a proxy, the socket layer): the token is cut out wherever it shows. */
function redact(text: string, accessToken: string): string {
  return accessToken === '' ? text : text.replaceAll(accessToken, '[redacted]');
}

function noAnswerError(
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
  accessToken: string,
): GraphApiError {
  // Either way Meta may have acted on the request before the answer was lost: the caller's retry
  // can duplicate a message, which is the window the outbox accepts.
  if (timedOut) {
    return new GraphApiError(
      `Graph API request timed out after ${timeoutMs} ms`,
      { status: 0, title: 'Timeout', retryable: true },
      { cause: error },
    );
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GraphApiError(
    `Graph API request failed: ${redact(reason, accessToken)}`,
    { status: 0, title: 'Network error', retryable: true },
    { cause: error },
  );
}

function answerError(
  { status, retryAfter, text }: { status: number; retryAfter: string | null; text: string },
  accessToken: string,
): GraphApiError {
  const body = ErrorBody.safeParse(parseJson(text));
  const meta = body.success ? body.data.error : undefined;
  const code = meta?.code;
  const title = redact(meta?.message?.replace(TITLE_PREFIX, '') || `HTTP ${status}`, accessToken);
  const errorData = meta?.error_data;
  const rawDetails = typeof errorData === 'string' ? errorData : errorData?.details;
  const details = rawDetails === undefined ? undefined : redact(rawDetails, accessToken);
  const message = `Graph API ${status}${code === undefined ? '' : ` (#${code})`}: ${title}${details ? ` - ${details}` : ''}`;
  return new GraphApiError(message, {
    status,
    code,
    subcode: meta?.error_subcode,
    title,
    details,
    fbtraceId: meta?.fbtrace_id,
    retryable: status === 429 || status >= 500 || (code !== undefined && RETRYABLE_CODES.has(code)),
    retryAfterMs: parseRetryAfter(retryAfter),
  });
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

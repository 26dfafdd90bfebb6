import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * An error a route answers with. Each kind is defined once below, with its code and status, and mapped to
 * HTTP in `sendHttpError` only: handlers throw, they never assemble error responses.
 */
export class HttpError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    options?: ErrorOptions,
    /** Extra fields of the response body, e.g. the route to use instead. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

type HttpErrorClass = new (message?: string, options?: ErrorOptions) => HttpError;

function defineHttpError(code: string, statusCode: number, defaultMessage: string): HttpErrorClass {
  return class extends HttpError {
    constructor(message = defaultMessage, options?: ErrorOptions) {
      super(code, statusCode, message, options);
    }
  };
}

export const VerificationRefusedError = defineHttpError(
  'verification_refused',
  403,
  'hub.mode must be "subscribe" and hub.verify_token must equal WHATSAPP_VERIFY_TOKEN',
);
export const InvalidSignatureError = defineHttpError(
  'invalid_signature',
  401,
  'X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body with the app secret',
);
export const MalformedJsonError = defineHttpError('malformed_json', 400, 'the body is not valid JSON');
export const InvalidPayloadError = defineHttpError(
  'invalid_payload',
  400,
  'the body is not a WhatsApp Business Account webhook payload',
);
export const StoreUnavailableError = defineHttpError(
  'store_unavailable',
  503,
  'messages cannot be stored right now: nothing was recorded, retry later',
);
export const WorkspaceNotFoundError = defineHttpError('not_found', 404, 'no such workspace');
export const InvalidPhoneNumberError = defineHttpError(
  'invalid_phone_number',
  400,
  'not a sandbox phone number of this workspace',
);

/** Fastify's own client errors, under the codes our API speaks. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_VALIDATION: 'invalid_request',
};

/** The one error handler: every error becomes `{ error: <code>, message }` with its status. */
export function sendHttpError(
  error: FastifyError | HttpError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof HttpError) {
    if (error.statusCode >= 500)
      request.log.error({ err: error.cause ?? error, code: error.code }, error.message);
    else request.log.info({ code: error.code }, error.message);
    return reply.code(error.statusCode).send({ error: error.code, message: error.message, ...error.details });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    request.log.info({ code: error.code }, error.message);
    return reply
      .code(status)
      .send({ error: FASTIFY_CODES[error.code] ?? 'bad_request', message: error.message });
  }
  request.log.error({ err: error }, 'request failed');
  return reply
    .code(500)
    .send({ error: 'internal_error', message: 'the request failed; the error is logged' });
}

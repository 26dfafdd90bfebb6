import { type Logger, pino } from 'pino';

/**
 * Secrets and message bodies never reach the logs: these paths are censored wherever they appear
 * (request headers, config objects, errors carrying request options).
 */
const REDACTED_PATHS = [
  'accessToken',
  '*.accessToken',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'botrelic' },
    },
    options.destination,
  );
}

import { HttpError } from './http-errors.ts';

/** Every refusal of the agent API, created here once; `sendHttpError` turns them into responses. */
export const agentApiErrors = {
  // 404, never 403, for another workspace's session: do not reveal that it exists.
  sessionNotFound: () => new HttpError('session_not_found', 404, 'no such session in your workspace'),
  sessionClosed: () => new HttpError('session_closed', 409, 'the session is closed'),
  alreadyTaken: (agentId: string | null) =>
    new HttpError(
      'already_taken',
      409,
      agentId ? `the session is already taken over by ${agentId}` : 'the session cannot be taken over now',
    ),
  notTakenOver: () =>
    new HttpError('not_taken_over', 409, 'the session is not taken over: take it over first'),
  notYourSession: (agentId: string | null) =>
    new HttpError('not_your_session', 409, `the session is assigned to ${agentId ?? 'another agent'}`),
  outsideServiceWindow: (sessionId: string, endedAt: number | null) =>
    new HttpError(
      'outside_service_window',
      422,
      endedAt === null
        ? 'the customer has not written in this session, so WhatsApp only accepts an approved template message'
        : `the 24-hour customer service window closed at ${new Date(endedAt).toISOString()}: WhatsApp only ` +
            'accepts an approved template message until the customer writes again',
      undefined,
      {
        ...(endedAt === null ? {} : { serviceWindowEndedAt: endedAt }),
        templateRoute: `/api/sessions/${sessionId}/templates`,
      },
    ),
  sessionUnavailable: () =>
    new HttpError(
      'session_unavailable',
      503,
      'the session did not answer in time; nothing changed, try again',
    ),
  invalidLastEventId: () =>
    new HttpError('invalid_last_event_id', 400, 'Last-Event-ID must be an event id this stream sent'),
};

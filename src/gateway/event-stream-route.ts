import type { FastifyPluginAsync } from 'fastify';
import { agentApiErrors } from './agent-api-errors.ts';
import { apiError } from './agent-api-schemas.ts';
import { jsonSchema } from './json-schema.ts';
import { type LiveEventsOptions, WorkspaceEventStream } from './live-events.ts';

/** A client this far behind on reading is dropped; it reconnects with Last-Event-ID and catches up. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const EVENT_ID = /^\d{1,19}$/;

/** `GET /api/events`: the agent's workspace as Server-Sent Events, resumable with `Last-Event-ID`. */
export const eventStreamRoute: FastifyPluginAsync<LiveEventsOptions> = async (app, options) => {
  const open = new Set<() => void>();
  // Server-Sent Event responses never finish on their own: end them, or closing the server would wait forever.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });

  app.get(
    '/api/events',
    {
      schema: {
        summary: "Live session events of the agent's workspace (text/event-stream)",
        description:
          'Events: session.waiting, session.assigned, session.status, session.message, session.updated, and ' +
          "message.status (a message's delivery status moved: sent, delivered, read, failed); each " +
          'with `id:` (a session event id) and JSON data. Reconnect with `Last-Event-ID` to get every missed ' +
          'event, in order, once. `ready` says the stream is live; `resync` says reload the inbox (too far ' +
          'behind); both carry the id to resume from.',
        tags: ['inbox'],
        security: [{ agentToken: [] }],
        headers: {
          type: 'object',
          properties: {
            'last-event-id': { type: 'string', description: 'the id of the last event received' },
          },
        },
        response: {
          200: {
            description: 'an endless text/event-stream',
            content: { 'text/event-stream': { schema: {} } },
          },
          400: jsonSchema(apiError),
          401: jsonSchema(apiError),
        },
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && header !== '' ? header : undefined;
      if (lastEventId !== undefined && !EVENT_ID.test(lastEventId)) throw agentApiErrors.invalidLastEventId();

      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Tells nginx-style proxies not to buffer the stream.
        'x-accel-buffering': 'no',
      });
      response.flushHeaders();
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        stream.close();
        open.delete(end);
        response.end();
      };
      const stream = new WorkspaceEventStream(
        request.agent!.workspaceId,
        {
          write: (chunk) => {
            if (response.writableEnded) return;
            response.write(chunk);
            if (response.writableLength > MAX_BUFFERED_BYTES) end();
          },
          fail: (error) => {
            request.log.warn({ err: error }, 'event stream failed; the client will resume');
            end();
          },
        },
        options,
      );
      open.add(end);
      response.on('close', end);
      await stream.open(lastEventId).catch((error: unknown) => {
        request.log.warn({ err: error }, 'event stream could not start');
        end();
      });
    },
  );
};

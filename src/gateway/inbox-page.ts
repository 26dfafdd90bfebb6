import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { buildInbox } from '../inbox/build-inbox.ts';

export interface InboxPageOptions {
  /** The built page (`npm run build:ui`); built here first when it is missing, e.g. after `npm install --ignore-scripts`. */
  directory: string;
}

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'inbox.js': 'text/javascript; charset=utf-8',
  'inbox.css': 'text/css; charset=utf-8',
  'sandbox.html': 'text/html; charset=utf-8',
  'sandbox.js': 'text/javascript; charset=utf-8',
  'sandbox.css': 'text/css; charset=utf-8',
} as const;

/** `/inbox`, the agents' page, and `/sandbox`, the simulator: small static files held in memory. */
export const inboxPage: FastifyPluginAsync<InboxPageOptions> = async (app, { directory }) => {
  // A build from before the simulator existed has the inbox only.
  const built = await Promise.all(
    ['inbox.js', 'sandbox.js'].map((name) => access(join(directory, name))),
  ).then(
    () => true,
    () => false,
  );
  if (!built) {
    app.log.info({ directory }, 'inbox page not built yet: building it now');
    await buildInbox(directory);
  }
  const files = new Map(
    await Promise.all(
      (Object.keys(FILES) as (keyof typeof FILES)[]).map(
        async (name) => [name, await readFile(join(directory, name))] as const,
      ),
    ),
  );
  const send = (name: keyof typeof FILES) => ({
    schema: { hide: true },
    handler: async (_request: unknown, reply: FastifyReply) =>
      reply
        .header('content-type', FILES[name])
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(files.get(name)),
  });
  app.get('/inbox', send('index.html'));
  app.get('/inbox/', send('index.html'));
  app.get('/inbox/inbox.js', send('inbox.js'));
  app.get('/inbox/inbox.css', send('inbox.css'));
  app.get('/sandbox', send('sandbox.html'));
  app.get('/sandbox/', send('sandbox.html'));
  app.get('/sandbox/sandbox.js', send('sandbox.js'));
  app.get('/sandbox/sandbox.css', send('sandbox.css'));
};

/**
 * The ceiling: a Fastify route that only checks Meta's signature on the raw body and answers 200, with
 * the engine's HTTP settings. Whatever the engine does beyond this is what its throughput pays for.
 * Run by the bench as its own process: PORT and WHATSAPP_APP_SECRET come from the environment.
 */
import Fastify from 'fastify';
import { verifyWebhookSignature } from '../../src/whatsapp/webhook-signature.ts';

const appSecret = process.env.WHATSAPP_APP_SECRET ?? '';
const app = Fastify({ logger: false, bodyLimit: 3 * 1024 * 1024 });

app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
  done(null, body),
);

app.get('/readyz', async () => ({ status: 'ready' }));

app.post('/webhooks/whatsapp', async (request, reply) => {
  const signature = request.headers['x-hub-signature-256'];
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (!verifyWebhookSignature(body, typeof signature === 'string' ? signature : undefined, appSecret)) {
    return reply.code(401).send({ error: 'invalid_signature' });
  }
  return { status: 'received' };
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

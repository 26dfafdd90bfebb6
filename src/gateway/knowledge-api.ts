import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FolderDocumentError, type KnowledgeBase } from '../knowledge/knowledge-base.ts';
import { HttpError } from './http-errors.ts';

export interface KnowledgeApiOptions {
  knowledge: KnowledgeBase;
  /** Workspace id → its text search language. */
  languages: ReadonlyMap<string, string>;
  /** `BOTRELIC_ADMIN_TOKEN`; without it the routes refuse everyone. */
  adminToken: string | undefined;
}

const documentParams = {
  type: 'object',
  required: ['workspaceId', 'documentId'],
  properties: {
    workspaceId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' },
    // Ids become part of chunk ids and file-like names: keep them path-like and printable.
    documentId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$' },
  },
} as const;

const documentBody = {
  type: 'object',
  required: ['content'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200 },
    content: { type: 'string', minLength: 1, maxLength: 1_000_000 },
  },
} as const;

interface DocumentRoute {
  Params: { workspaceId: string; documentId: string };
  Body: { title?: string; content: string };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** A document of more passages than this is indexed in several batches: its progress is logged after each. */
const BIG_DOCUMENT_CHUNKS = 500;

/**
 * Knowledge documents over HTTP: `PUT` stores and re-indexes one (a no-op when unchanged), `DELETE`
 * removes it; a document from a knowledge folder is its file's, and both answer 409 for it. Changing what
 * the bot says is an administrator's job, so these routes take the admin token
 * (`Authorization: Bearer $BOTRELIC_ADMIN_TOKEN`), not an agent's.
 */
export const knowledgeApi: FastifyPluginAsync<KnowledgeApiOptions> = async (app, options) => {
  const expected = options.adminToken ? sha256(options.adminToken) : undefined;

  function requireAdmin(request: FastifyRequest): void {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    // Compare hashes: equal lengths for timingSafeEqual, and no early exit on the first differing byte.
    if (!expected || !token || !timingSafeEqual(sha256(token), expected)) {
      throw new HttpError(
        'unauthorized',
        401,
        expected
          ? 'send the admin token as "Authorization: Bearer <token>"'
          : 'knowledge documents can be changed only when BOTRELIC_ADMIN_TOKEN is set',
      );
    }
  }

  /** A folder's document is its file's: the API may not change it, or the next folder sync would undo it. */
  async function unlessFromFolder<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      if (error instanceof FolderDocumentError) {
        throw new HttpError('folder_document', 409, error.message, { cause: error });
      }
      throw error;
    }
  }

  function languageOf(workspaceId: string): string {
    const language = options.languages.get(workspaceId);
    if (!language) throw new HttpError('not_found', 404, 'no such workspace');
    return language;
  }

  app.put<DocumentRoute>(
    '/api/workspaces/:workspaceId/knowledge/:documentId',
    {
      schema: {
        params: documentParams,
        body: documentBody,
        response: {
          200: {
            type: 'object',
            properties: { documentId: { type: 'string' }, indexed: { type: 'boolean' } },
          },
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { workspaceId, documentId } = request.params;
      const language = languageOf(workspaceId);
      const { indexed } = await unlessFromFolder(() =>
        options.knowledge.upsertDocument(
          workspaceId,
          documentId,
          { title: request.body.title, content: request.body.content, source: 'api', language },
          (progress) => {
            if (progress.total > BIG_DOCUMENT_CHUNKS) {
              request.log.info({ workspaceId, documentId, ...progress }, 'indexing knowledge document');
            }
          },
        ),
      );
      request.log.info({ workspaceId, documentId, indexed }, 'knowledge document stored');
      return { documentId, indexed };
    },
  );

  app.delete<Pick<DocumentRoute, 'Params'>>(
    '/api/workspaces/:workspaceId/knowledge/:documentId',
    { schema: { params: documentParams } },
    async (request, reply) => {
      requireAdmin(request);
      const { workspaceId, documentId } = request.params;
      languageOf(workspaceId);
      if (!(await unlessFromFolder(() => options.knowledge.deleteDocument(workspaceId, documentId)))) {
        throw new HttpError('not_found', 404, 'no such document');
      }
      request.log.info({ workspaceId, documentId }, 'knowledge document deleted');
      return reply.code(204).send();
    },
  );
};

import type { Logger } from 'pino';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import type { IngestResult, KnowledgeBase } from './knowledge-base.ts';

/** A workspace's knowledge folders, as the configuration gives them. */
export interface WorkspaceFolders {
  workspaceId: string;
  folders: string[];
  language: string;
}

/** Ingests of at least this many documents log their progress, every `PROGRESS_EVERY` documents. */
const BIG_INGEST = 20;
const PROGRESS_EVERY = 10;

export const foldersOf = (config: BotrelicConfig): WorkspaceFolders[] =>
  config.workspaces
    .filter((workspace) => workspace.knowledge.length > 0)
    .map((workspace) => ({
      workspaceId: workspace.id,
      folders: workspace.knowledge,
      language: workspace.agent.language,
    }));

/**
 * Makes the workspace's file documents what its folders hold (see `ingestFolders`), logging the progress of a
 * big ingest so an operator watching a first start of thousands of documents sees it move.
 */
export async function syncWorkspaceFolders(
  knowledge: KnowledgeBase,
  { workspaceId, folders, language }: WorkspaceFolders,
  logger: Logger,
): Promise<IngestResult> {
  const result = await knowledge.ingestFolders(workspaceId, folders, language, (progress) => {
    if (progress.total >= BIG_INGEST && progress.done % PROGRESS_EVERY === 0) {
      logger.info({ workspaceId, done: progress.done, total: progress.total }, 'indexing knowledge');
    }
  });
  if (result.replaced.length > 0) {
    logger.warn(
      { workspaceId, documents: result.replaced },
      'knowledge files replaced documents stored over the API under the same ids',
    );
  }
  return result;
}

/** Indexes every workspace's knowledge folders at start; unchanged documents are skipped, so restarts are cheap. */
export async function ingestConfiguredKnowledge(
  knowledge: KnowledgeBase,
  config: BotrelicConfig,
  logger: Logger,
): Promise<void> {
  for (const workspace of foldersOf(config)) {
    const result = await syncWorkspaceFolders(knowledge, workspace, logger);
    logger.info({ workspaceId: workspace.workspaceId, ...result }, 'knowledge base ready');
  }
}

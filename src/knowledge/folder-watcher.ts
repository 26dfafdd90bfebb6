import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';
import type { KnowledgeBase } from './knowledge-base.ts';
import { syncWorkspaceFolders, type WorkspaceFolders } from './knowledge-folders.ts';

export interface FolderWatcherOptions {
  knowledge: KnowledgeBase;
  workspaces: WorkspaceFolders[];
  logger: Logger;
  /** Changes closer together than this are one sync: an editor's save, a `git pull`, a copied folder. */
  debounceMs?: number;
}

export interface FolderWatcher {
  /** Stops watching and waits for a sync in progress. */
  close(): Promise<void>;
}

/** Editors' swap and backup files, `.git`: hidden names are never knowledge (see listKnowledgeFiles). */
const isHidden = (path: string): boolean => path.split(/[\\/]/).some((part) => part.startsWith('.'));

/**
 * Re-indexes a workspace's folder documents while the engine runs: a file written, changed, renamed or deleted
 * under one of its folders syncs the workspace's folders again, once the changes have settled. The sync reads
 * every file but re-indexes only those whose text changed, and deletes the documents of files that are gone.
 * Syncs of one workspace never overlap: changes during one start another after it.
 */
export function watchKnowledgeFolders(options: FolderWatcherOptions): FolderWatcher {
  const { knowledge, logger } = options;
  const debounceMs = options.debounceMs ?? 300;
  const watchers: FSWatcher[] = [];
  const syncs: (() => Promise<void>)[] = [];
  let closed = false;

  for (const workspace of options.workspaces) {
    const { workspaceId } = workspace;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | null = null;
    let again = false;

    const sync = async () => {
      try {
        const result = await syncWorkspaceFolders(knowledge, workspace, logger);
        if (result.indexed.length > 0 || result.deleted.length > 0) {
          logger.info(
            { workspaceId, indexed: result.indexed, deleted: result.deleted },
            'knowledge folders changed: documents re-indexed',
          );
        }
      } catch (error) {
        logger.error({ err: error, workspaceId }, 'knowledge folders changed but could not be re-indexed');
      }
    };
    const run = () => {
      timer = undefined;
      if (closed) return;
      if (running) {
        again = true;
        return;
      }
      running = sync().finally(() => {
        running = null;
        if (again) {
          again = false;
          schedule();
        }
      });
    };
    const schedule = () => {
      clearTimeout(timer);
      if (!closed) timer = setTimeout(run, debounceMs);
    };
    syncs.push(async () => {
      clearTimeout(timer);
      await running;
    });

    for (const folder of workspace.folders) {
      try {
        const watcher = watch(folder, { recursive: true }, (_event, filename) => {
          if (filename === null || !isHidden(filename)) schedule();
        });
        watcher.on('error', (error) =>
          logger.warn({ err: error, workspaceId, folder }, 'knowledge folder watch failed'),
        );
        watchers.push(watcher);
      } catch (error) {
        // A folder that vanished since start: what it held stays indexed until the next start says otherwise.
        logger.warn({ err: error, workspaceId, folder }, 'knowledge folder cannot be watched');
      }
    }
  }

  return {
    async close() {
      closed = true;
      for (const watcher of watchers) watcher.close();
      await Promise.all(syncs.map((settle) => settle()));
    },
  };
}

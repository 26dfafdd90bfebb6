import { readdir } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

/** A document of a knowledge folder. */
export interface KnowledgeFile {
  /** The path relative to its folder, with `/` on every platform: the document's id. */
  documentId: string;
  path: string;
}

const DOCUMENT_EXTENSIONS = new Set(['.md', '.markdown', '.txt']);

async function walk(folder: string, dir: string, files: KnowledgeFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    // Hidden files and folders (.git, .obsidian, editor backups) are not knowledge.
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(folder, path, files);
    else if (entry.isFile() && DOCUMENT_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      files.push({ documentId: relative(folder, path).split(sep).join('/'), path });
    }
  }
}

/**
 * The Markdown and text files under the folders, recursively, sorted by id. Two folders holding the same
 * relative path would make one document of two files: that is refused.
 */
export async function listKnowledgeFiles(folders: string[]): Promise<KnowledgeFile[]> {
  const files: KnowledgeFile[] = [];
  for (const folder of folders) await walk(folder, folder, files);
  const byId = new Map<string, KnowledgeFile>();
  for (const file of files) {
    const other = byId.get(file.documentId);
    if (other) {
      throw new Error(
        `${other.path} and ${file.path} would both be knowledge document "${file.documentId}": rename one`,
      );
    }
    byId.set(file.documentId, file);
  }
  return files.sort((a, b) => (a.documentId < b.documentId ? -1 : a.documentId > b.documentId ? 1 : 0));
}

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Where `npm run build:ui` (run by `npm install` through `prepare`) puts the inbox page. */
export const INBOX_BUILD_DIR = fileURLToPath(new URL('../../dist/inbox/', import.meta.url));

const source = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/**
 * The pages' static files, the inbox's and the sandbox simulator's (src/sandbox/client): one minified script each
 * (Preact, @xstate/store, the client), the HTML, the CSS.
 */
export async function buildInbox(outdir = INBOX_BUILD_DIR): Promise<void> {
  const bundle = await build({
    entryPoints: { inbox: source('./client/main.tsx'), sandbox: source('../sandbox/client/main.tsx') },
    outdir: '.',
    write: false,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await mkdir(outdir, { recursive: true });
  const files: [string, Uint8Array][] = [
    ...bundle.outputFiles.map((file): [string, Uint8Array] => [basename(file.path), file.contents]),
    ['index.html', await readFile(source('./index.html'))],
    ['inbox.css', await readFile(source('./inbox.css'))],
    ['sandbox.html', await readFile(source('../sandbox/sandbox.html'))],
    ['sandbox.css', await readFile(source('../sandbox/sandbox.css'))],
  ];
  // Written aside and renamed into place: a server starting meanwhile reads the old file or the new, never half.
  for (const [name, contents] of files) {
    const temporary = join(outdir, `.${name}.${process.pid}.tmp`);
    await writeFile(temporary, contents);
    await rename(temporary, join(outdir, name));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildInbox();
  console.log(`inbox page built in ${INBOX_BUILD_DIR}`);
}

#!/usr/bin/env node
// Runs the TypeScript sources directly: one artefact for `npm start`, the CLI and Docker, no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

import { render } from 'preact';
import { App } from './app.tsx';
import { createSandboxController } from './sandbox-controller.ts';
import { createSandboxStore } from './sandbox-store.ts';

const store = createSandboxStore();
const root = document.getElementById('sandbox');
if (root) render(<App store={store} controller={createSandboxController(store)} />, root);

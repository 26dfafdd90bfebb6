import { render } from 'preact';
import { App } from './app.tsx';
import { createInboxController } from './inbox-controller.ts';
import { createInboxStore } from './inbox-store.ts';

const store = createInboxStore();
const root = document.getElementById('inbox');
if (root) render(<App store={store} controller={createInboxController(store)} />, root);

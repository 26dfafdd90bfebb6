import { useEffect, useState } from 'preact/hooks';
import type { InboxContext, InboxStore } from './inbox-store.ts';

/** The store's context, re-rendering the component on every change. */
export function useInbox(store: InboxStore): InboxContext {
  const [context, setContext] = useState(store.getSnapshot().context);
  useEffect(() => {
    const subscription = store.subscribe((snapshot) => setContext(snapshot.context));
    return () => subscription.unsubscribe();
  }, [store]);
  return context;
}

/** The server's clock, ticking: waiting times and the 24-hour window are measured on it, not the browser's. */
export function useServerNow(offsetMs: number, everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now + offsetMs;
}

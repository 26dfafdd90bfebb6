/** "4 min", "2 h 5 min", "3 d": how long, for people. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export function formatTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export const REASONS: Record<string, string> = {
  keyword: 'asked for a person',
  customer_request: 'pressed “talk to a person”',
  low_confidence: 'AI not confident enough',
  unsupported: 'AI cannot answer this',
  loop: 'conversation going in circles',
  ai_error: 'AI failed to answer',
};

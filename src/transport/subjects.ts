/** Every session lives on `botrelic.<workspace>.<partition>.<sessionKey>.<kind>` (DESIGN.md §7). */
export type SubjectKind = 'in' | 'cmd' | 'evt';

export const SUBJECT_ROOT = 'botrelic';

export function sessionSubject(
  workspaceId: string,
  partition: number,
  sessionKey: string,
  kind: SubjectKind,
): string {
  return `${SUBJECT_ROOT}.${workspaceId}.${partition}.${sessionKey}.${kind}`;
}

/** All subjects of one kind in one partition, across workspaces: what a partition owner subscribes to. */
export function partitionSubject(partition: number, kind: SubjectKind): string {
  return `${SUBJECT_ROOT}.*.${partition}.*.${kind}`;
}

/** All events of one workspace: what an inbox's live stream listens to. */
export function workspaceEventsSubject(workspaceId: string): string {
  return `${SUBJECT_ROOT}.${workspaceId}.*.*.evt`;
}

export function parseSessionSubject(
  subject: string,
): { workspaceId: string; partition: number; sessionKey: string; kind: SubjectKind } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== SUBJECT_ROOT) return undefined;
  const [, workspaceId, partition, sessionKey, kind] = parts as [string, string, string, string, string];
  if (kind !== 'in' && kind !== 'cmd' && kind !== 'evt') return undefined;
  return { workspaceId, partition: Number(partition), sessionKey, kind };
}

import type { SessionRow } from './schema.ts';
import type { StoredSession } from './session-store.ts';

/** The first key of the advisory lock that orders a workspace's session events (the second is the workspace). */
export const EVENTS_LOCK = 7_301;

export function toStoredSession(row: SessionRow): StoredSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    sessionKey: row.session_key,
    partition: row.partition,
    phoneNumberId: row.phone_number_id,
    customerWaId: row.customer_wa_id,
    state: row.state,
    snapshot: row.snapshot,
    machineVersion: row.machine_version,
    version: row.version,
    nextDeadlineAt: row.next_deadline_at?.getTime() ?? null,
    createdAt: row.created_at.getTime(),
    closedAt: row.closed_at?.getTime() ?? null,
  };
}

/**
 * jsonb goes in as JSON text: pg would turn a JS array into a Postgres array literal, and both drivers pass
 * a string through untouched, so stringifying here is the one encoding that means the same on both.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

/**
 * Who is acting. Every use case takes one as its first argument and asks the access catalogue
 * (core/access/) what the actor may do or see, so the web pages, the CLI, the app API and
 * plugins share one rule. `label` is what lands in history and audit columns ("recorded by").
 */
export type Actor =
  | { kind: 'system'; label: string }
  | { kind: 'admin'; label: string; staffId?: number }
  | { kind: 'manager'; label: string; staffId: number }
  | { kind: 'staff'; label: string; staffId: number }
  | { kind: 'parent'; label: string; parentId: number };

export const systemActor = (label = 'system'): Actor => ({ kind: 'system', label });

/** The IT admin at the terminal: trusted with the whole directory, named by their OS login. */
export const cliAdmin = (username: string): Actor => ({ kind: 'admin', label: `cli:${username}` });

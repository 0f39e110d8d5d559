import type { EntityManager } from '@mikro-orm/postgresql';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import { type CheckResult, ok, warn } from './report.ts';

interface QueueRow {
  name: string;
  waiting: number;
  dead: number;
  failed: number;
}

/**
 * The job queue's health from pg-boss's own tables (times are the database's, as pg-boss writes
 * them): jobs due for longer than `stuckMinutes` that nobody picks up (no server running, or its
 * workers stuck), dead letters (jobs that gave up after their last retry and were moved to a
 * dead-letter queue: an invitation that never left, say) and failed jobs of queues without one.
 */
export async function checkQueue(em: EntityManager, stuckMinutes: number): Promise<CheckResult> {
  const conn = em.getConnection();
  const schema = (await conn.execute('select 1 from pg_namespace where nspname = ?', [QUEUE_SCHEMA])) as unknown[];
  if (!schema.length) return ok('queue', 'no job queue yet (made when the first job is queued)');
  const rows = (await conn.execute(
    `with dead_letter as (select distinct dead_letter as name from ${QUEUE_SCHEMA}.queue where dead_letter is not null)
     select j.name,
            count(*) filter (where j.state in ('created', 'retry') and j.start_after < now() - make_interval(mins => ?)
                               and j.name not in (select name from dead_letter))::int as waiting,
            count(*) filter (where j.state = 'created' and j.name in (select name from dead_letter))::int as dead,
            count(*) filter (where j.state = 'failed' and q.dead_letter is null)::int as failed
       from ${QUEUE_SCHEMA}.job j
       left join ${QUEUE_SCHEMA}.queue q on q.name = j.name
      group by j.name
      order by j.name`,
    [stuckMinutes],
  )) as QueueRow[];
  const list = (pick: (r: QueueRow) => number) =>
    rows
      .filter((r) => pick(r) > 0)
      .map((r) => `${r.name} ${pick(r)}`)
      .join(', ');
  const total = (pick: (r: QueueRow) => number) => rows.reduce((sum, r) => sum + pick(r), 0);
  const waiting = total((r) => r.waiting);
  const dead = total((r) => r.dead);
  const failed = total((r) => r.failed);
  const problems: string[] = [];
  if (waiting) {
    problems.push(
      `${waiting} job(s) due for over ${stuckMinutes} min (${list((r) => r.waiting)}): is \`portal serve\` running? (\`portal mail work\` sends mail without it)`,
    );
  }
  if (dead) problems.push(`${dead} dead letter(s) (${list((r) => r.dead)}): \`portal mail status\` lists them, \`portal mail retry\` sends them again`);
  if (failed) problems.push(`${failed} failed job(s) (${list((r) => r.failed)})`);
  if (problems.length) return warn('queue', problems.join('; '));
  return ok('queue', 'no backlog, no dead letters');
}

import type { Actor } from '../core/actor.ts';
import { clockOf } from '../core/clock.ts';
import { MARK_AMBIGUOUS_THREADS_SQL } from '../core/db/migrations/Migration20261206100000ThreadChildReview.ts';
import { addDays } from '../core/dates.ts';
import { addChild } from '../core/directory/children.ts';
import { addParent, linkParent } from '../core/directory/parents.ts';
import { Account } from '../core/entities/account.ts';
import { Child } from '../core/entities/child.ts';
import { Parent } from '../core/entities/parent.ts';
import { startThread } from '../core/messages/threads.ts';
import type { Portal } from '../core/portal.ts';
import { type MessageWorld, PASSWORD } from './messages.ts';
import { admin } from './portal.ts';

/**
 * On top of the message world (test/messages.ts), a family where a message can reach the wrong
 * child: Cor has two children in Boomhut, Sam (K2) and Ties (K5, new), and each has another
 * guardian who is not the other's: Dirk (Sam only) and Femke (Ties only). Accounts with PASSWORD.
 */

export const FAMILY = { dirk: 'dirk.sam@example.nl', femke: 'femke.ties@example.nl' } as const;

export interface TwinFamily {
  actors: { dirk: Actor; femke: Actor };
  children: { sam: number; ties: number; lot: number; evi: number };
}

export async function seedTwinFamily(portal: Pick<Portal, 'em' | 'hasher'>): Promise<TwinFamily> {
  const em = portal.em();
  const since = addDays(clockOf(em).today(), -30);
  await addChild(em, admin, { childNumber: 'K5', firstName: 'Ties', lastName: 'Jansen', birthDate: '2024-02-01', group: 'Boomhut', startDate: since });
  await linkParent(em, admin, 'cor@example.nl', 'K5');
  await addParent(em, admin, { email: FAMILY.dirk, firstName: 'Dirk', lastName: 'Ouder', children: ['K2'] });
  await addParent(em, admin, { email: FAMILY.femke, firstName: 'Femke', lastName: 'Ouder', children: ['K5'] });
  const hash = await portal.hasher.hash(PASSWORD);
  const actors = {} as TwinFamily['actors'];
  for (const who of ['dirk', 'femke'] as const) {
    const parent = await em.findOneOrFail(Parent, { email: FAMILY[who] });
    em.create(Account, { email: FAMILY[who], parent, staff: null, passwordHash: hash, passwordMustChange: false, passwordExpiresAt: null });
    actors[who] = { kind: 'parent', parentId: parent.id, label: FAMILY[who] };
  }
  await em.flush();
  const id = async (n: string) => (await em.findOneOrFail(Child, { childNumber: n })).id;
  return { actors, children: { sam: await id('K2'), ties: await id('K5'), lot: await id('K3'), evi: await id('K1') } };
}

/**
 * A thread as the portal stored it before a parent had to choose: Cor writes to Boomhut and it
 * lands on Sam (the first by name). Then the migration's own statement marks it, restricted to
 * this thread (the full statement would also mark Cor's newer threads in Boomhut).
 */
export async function storeAmbiguousThread(
  portal: Portal,
  w: MessageWorld,
  family: TwinFamily,
  text = { subject: 'Medicijnen', body: 'Hij krijgt sinds gisteren antibiotica, twee keer per dag.' },
): Promise<string> {
  const { threadId } = await startThread(portal.em(), portal, w.actors.cor, { groupId: w.groups.boomhut, childId: family.children.sam, ...text });
  await portal.em().getConnection().execute(`${MARK_AMBIGUOUS_THREADS_SQL} and t.id = ?`, [threadId]);
  return threadId;
}

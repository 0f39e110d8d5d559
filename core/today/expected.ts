import type { ContractedDay } from '../schedule/attendance.ts';
import type { DayPart } from '../entities/schedule.ts';

/**
 * Who the group can expect on a day, from what the schedule says, as one pure function (so
 * the rule is tested without a database): placed children; where the group's contracted days
 * are imported, only those contracted and not called off, plus approved swap days in; minus
 * those reported ill, who are listed apart. A group without contract data expects every child
 * placed in it (as the schriftje's list does: core/diary/day-sheet.ts presentChildren).
 */

export interface PlacedChild {
  id: number;
  name: string;
  firstName: string;
}

export interface ExpectedChild extends PlacedChild {
  /** The part of the day the child comes (null: no contract data, so not known). */
  part: DayPart | null;
  /** Comes on an approved swap day (ruildag), not a contracted one. */
  swap: boolean;
}

export interface DayAttendance {
  /** Coming today, by name. */
  expected: ExpectedChild[];
  /** Would have come, but reported ill. */
  sick: ExpectedChild[];
  /** Contracted, but the day was called off (afgemeld). */
  cancelled: PlacedChild[];
}

export function dayAttendance(input: {
  placed: readonly PlacedChild[];
  hasContracts: boolean;
  /** The group's contracted days on the day (contractedDays). */
  contracted: readonly ContractedDay[];
  /** Approved swap days into the group on the day. */
  swapsIn: readonly { childId: number; part: DayPart }[];
  sickIds: ReadonlySet<number>;
}): DayAttendance {
  const byId = new Map(input.placed.map((c) => [c.id, c]));
  const coming = new Map<number, ExpectedChild>();
  const cancelled = new Map<number, PlacedChild>();
  if (!input.hasContracts) {
    for (const c of input.placed) coming.set(c.id, { ...c, part: null, swap: false });
  } else {
    for (const d of input.contracted) {
      const child = byId.get(d.childId);
      if (!child) continue;
      if (d.cancellationId === null) coming.set(child.id, { ...child, part: d.part, swap: false });
      else cancelled.set(child.id, child);
    }
    for (const s of input.swapsIn) {
      const child = byId.get(s.childId);
      if (child && !coming.has(child.id)) coming.set(child.id, { ...child, part: s.part, swap: true });
    }
  }
  // A child who comes for one half and called off the other is coming, not "afgemeld".
  for (const id of coming.keys()) cancelled.delete(id);
  const byName = <T extends PlacedChild>(a: T, b: T) => a.name.localeCompare(b.name, 'nl') || a.id - b.id;
  const all = [...coming.values()];
  return {
    expected: all.filter((c) => !input.sickIds.has(c.id)).sort(byName),
    sick: all.filter((c) => input.sickIds.has(c.id)).sort(byName),
    cancelled: [...cancelled.values()].sort(byName),
  };
}

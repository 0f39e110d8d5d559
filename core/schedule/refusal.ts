import { DomainError } from '../errors.ts';

/**
 * Why the portal says no to an afmelding or a swap request. Each reason has a stable code, so
 * the page can say it in the parent's language (views/i18n `schedule.refusal.<code>`) with the
 * values it needs (a time, a date, a holiday's name); the CLI prints the English message.
 */
export type RefusalCode =
  | 'not_contracted'
  | 'holiday'
  | 'past'
  | 'after_deadline'
  | 'already_cancelled'
  | 'weekend'
  | 'notice'
  | 'credit_expired'
  | 'after_expiry'
  | 'credit_in_use'
  | 'whole_days_only'
  | 'not_placed'
  | 'already_there'
  | 'full'
  | 'not_pending'
  | 'not_approved'
  | 'reason_required';

const messages: Record<RefusalCode, (p: Record<string, string>) => string> = {
  not_contracted: () => 'this is not one of the child’s contracted days',
  holiday: (p) => `the location is closed on ${p.name}`,
  past: () => 'this day has passed',
  after_deadline: (p) => `a day can be cancelled on the day itself only before ${p.time}`,
  already_cancelled: () => 'this day has already been cancelled',
  weekend: () => 'the location is open on weekdays only',
  notice: (p) => `a swap must be requested at least ${p.days} day(s) in advance (from ${p.date})`,
  credit_expired: (p) => `this credit expired on ${p.date}`,
  after_expiry: (p) => `this credit can be used up to ${p.date}`,
  credit_in_use: () => 'this credit is already used for another request',
  whole_days_only: () => 'only whole days can be swapped at this location',
  not_placed: () => 'the child is not placed in this group on that day',
  already_there: () => 'the child already comes on that day',
  full: () => 'the group is full on that day',
  not_pending: () => 'this request has already been decided or withdrawn',
  not_approved: () => 'this swap day is not (or no longer) approved',
  reason_required: () => 'give a reason for the refusal',
};

export class ScheduleRefusal extends DomainError {
  constructor(
    readonly reason: RefusalCode,
    readonly params: Record<string, string> = {},
  ) {
    const message = messages[reason](params);
    super(reason === 'full' || reason === 'credit_in_use' || reason === 'not_pending' || reason === 'not_approved' ? 'conflict' : 'validation', message, [
      { path: reason === 'reason_required' ? 'reason' : 'date', message },
    ]);
    this.name = 'ScheduleRefusal';
  }
}

export const refuse = (reason: RefusalCode, params: Record<string, string> = {}) => new ScheduleRefusal(reason, params);

export function isRefusal(err: unknown): err is ScheduleRefusal {
  return err instanceof ScheduleRefusal;
}

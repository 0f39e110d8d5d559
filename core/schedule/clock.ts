// One formatter for the process (see core/dates.ts on why).
const amsterdamTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** The wall-clock time in the portal's time zone as HH:MM: the deadline for cancelling today is in local time. */
export function timeOfDay(now: Date = new Date()): string {
  return amsterdamTime.format(now);
}

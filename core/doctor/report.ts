/**
 * What `portal doctor` reports: one row per check. `skip` is a check that does not apply here
 * (mail goes to .eml files) or could not run because an earlier one failed; only `fail` makes
 * the doctor fail.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
export const warn = (check: string, detail: string): CheckResult => ({ check, status: 'warn', detail });
export const fail = (check: string, detail: string): CheckResult => ({ check, status: 'fail', detail });
export const skip = (check: string, detail: string): CheckResult => ({ check, status: 'skip', detail });

export class CheckTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s`);
    this.name = 'CheckTimeout';
  }
}

/**
 * Runs fn with a deadline, so one hanging check (a firewall that drops packets to the SMTP
 * port, a database that never answers) never hangs the doctor. What fn started goes on in the
 * background; `late` is handed its result if it arrives after all, to close what it opened.
 */
export async function withTimeout<T>(ms: number, fn: () => Promise<T>, late?: (value: T) => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const work = fn();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new CheckTimeout(ms));
    }, ms);
  });
  work.then(
    (value) => {
      if (timedOut) late?.(value);
    },
    () => {},
  );
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first line of an error's message: a check's detail is one line. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.trim();
}

/**
 * Runs `cleanup` after `original` failed and throws `original`, whatever the cleanup does: on a
 * full disk the cleanup (removing a temp file, releasing a lock file) often fails too, and its
 * error must not take the place of the one that says what went wrong. The cleanup's error goes
 * to `onCleanupError` (a log line) and rides along on the original as `suppressed`.
 */
export async function rethrowAfterCleanup(original: unknown, cleanup: () => Promise<unknown>, onCleanupError?: (err: unknown) => void): Promise<never> {
  try {
    await cleanup();
  } catch (cleanupErr) {
    onCleanupError?.(cleanupErr);
    if (original instanceof Error) {
      const carrier = original as Error & { suppressed?: unknown[] };
      carrier.suppressed = [...(carrier.suppressed ?? []), cleanupErr];
    }
  }
  throw original;
}

#!/usr/bin/env node
// The `portal` command: runs the compiled build in dist/ (scripts/build.mjs), rebuilding it first
// when a source file changed since, so the command never runs stale code and never pays for a
// TypeScript compiler at start.
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { ensureBuilt } from '../scripts/build.mjs';

const args = process.argv.slice(2);
// `portal export` streams millions of rows through short-lived buffers: a young generation kept
// at its starting size holds its peak memory near the command's own (bench/export.ts, 2M rows:
// 154–170 MB by default, 113–123 MB so, `portal db status` alone 119 MB). Set before anything
// is loaded: once the young generation has grown it stays grown. V8 fixes --max-semi-space-size
// at start-up, but reads the growth factor whenever it would grow. Never for `portal serve`.
if (args.includes('export')) setFlagsFromString('--semi-space-growth-factor=1');
let entry;
try {
  ({ entry } = await ensureBuilt());
} catch (err) {
  process.stderr.write(`portal: cannot build the command (${err.message.split('\n')[0]}); see the errors above\n`);
  process.exit(4);
}
// Stack traces (only printed with --verbose) then point into the TypeScript sources.
if (args.includes('--verbose')) process.setSourceMapsEnabled(true);
const { main } = await import(pathToFileURL(entry).href);
// `portal serve` keeps running (its server holds the event loop); every other command ends here.
process.exitCode = await main(args);

#!/usr/bin/env node
// The `portal` command. The project runs its TypeScript sources directly through tsx, so there
// is no build step between `npm install` and a working command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
// `portal serve` keeps running (its server holds the event loop); every other command ends here.
process.exitCode = code;

import type { Command } from 'commander';

/**
 * Two or three real invocations per command, shown at the end of its `--help`. One place for
 * all of them, so they read alike; cli/help.test.ts fails for a command without any, and for
 * examples of a command that no longer exists.
 */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  init: [
    'portal init',
    'portal init --name "Kinderopvang De Boomhut" --url https://ouders.deboomhut.nl --helpdesk-email helpdesk@deboomhut.nl --language nl',
  ],

  'locations add': [
    'portal locations add --name Centrum --address "Lindelaan 4, 3581 AB Utrecht" --phone 030-1234567',
    'portal locations add --name Noord --opening-hours "ma-vr 7:00-18:30" --manager anna@deboomhut.nl',
  ],
  'locations list': ['portal locations list', 'portal --json locations list'],
  'locations show': ['portal locations show Centrum', 'portal locations show 3'],
  'locations update': [
    'portal locations update Centrum --messages-read-at 13:00',
    'portal locations update Centrum --manager ""',
  ],

  'groups add': ['portal groups add --location Centrum --name Dolfijnen --capacity 14', 'portal groups add --location 3 --name Zeesterren --capacity 12'],
  'groups list': ['portal groups list', 'portal groups list --location Centrum --all'],
  'groups update': ['portal groups update Centrum/Dolfijnen --capacity 16', 'portal groups update Dolfijnen --location Centrum --name Zeesterren'],
  'groups remove': ['portal groups remove Centrum/Zeesterren', 'portal groups remove Centrum/Zeesterren --yes'],

  'children add': [
    'portal children add --number K1042 --first-name Sem --last-name Jansen --birth-date 2024-03-14 --group Centrum/Dolfijnen',
    'portal children add --number K1043 --first-name Noor --infix van --last-name Dijk --birth-date 14-03-2025 --group Dolfijnen --start 2027-01-04',
  ],
  'children list': ['portal children list --group Centrum/Dolfijnen', 'portal children list --location Centrum --all'],
  'children show': ['portal children show K1042', 'portal --json children show K1042'],
  'children move': ['portal children move K1042 --group Centrum/Zeesterren', 'portal children move K1042 --group Zeesterren --date 2027-01-04'],
  'children leave': ['portal children leave K1042 --date 2027-07-31', 'portal children leave K1042 --yes'],
  'children update': [
    'portal children update K1042 --child-number K1042A',
    'portal children update K1042 --first-name Sem --birth-date 2024-03-15 --dry-run',
    'portal children update K1042 --mentor anna@kdv-zonnetje.nl',
  ],

  'consent set': [
    'portal consent set K1042 --internal ja --external nee --note "intake with mother, form 12-03"',
    'portal consent set K1042 --external yes',
  ],
  'consent show': ['portal consent show K1042', 'portal --json consent show K1042'],
  'consent list': ['portal consent list --group Centrum/Dolfijnen', 'portal consent list --location Centrum --missing'],

  'parents add': [
    'portal parents add --email eva.jansen@example.nl --first-name Eva --last-name Jansen --child K1042',
    'portal parents add --email tom@example.nl --first-name Tom --last-name Smith --language en --phone 0612345678 --child K1042 --child K1043',
  ],
  'parents list': ['portal parents list', 'portal parents list --group Centrum/Dolfijnen'],
  'parents update': [
    'portal parents update ouder@example.nl --email nieuw@example.nl',
    'portal parents update ouder@example.nl --language en --phone 0612345678',
    'portal --json parents update ouder@example.nl --last-name Bakker --dry-run',
  ],
  'parents remove': ['portal parents remove ouder@example.nl --dry-run', 'portal parents remove ouder@example.nl --yes'],
  'parents revoke-feed': ['portal parents revoke-feed eva.jansen@example.nl', 'portal --json parents revoke-feed eva.jansen@example.nl'],
  'parents show': ['portal parents show eva.jansen@example.nl', 'portal --json parents show eva.jansen@example.nl'],
  'parents link': ['portal parents link eva.jansen@example.nl K1043', 'portal parents link tom@example.nl K1042'],
  'parents unlink': ['portal parents unlink eva.jansen@example.nl K1043', 'portal parents unlink tom@example.nl K1042'],
  'parents invite': [
    'portal parents invite --dry-run',
    'portal parents invite --group Centrum/Dolfijnen',
    'portal parents invite eva.jansen@example.nl --resend',
  ],
  'parents reset-password': ['portal parents reset-password eva.jansen@example.nl', 'portal parents reset-password eva.jansen@example.nl --no-wait'],
  'parents suspend': [
    'portal parents suspend eva.jansen@example.nl --reason "shared photos of other children"',
    'portal parents suspend tom@example.nl --reason "custody dispute, court order 2026-11"',
  ],
  'parents unsuspend': ['portal parents unsuspend eva.jansen@example.nl', 'portal --json parents unsuspend eva.jansen@example.nl'],
  'parents import': ['portal parents import --template ouders.csv', 'portal parents import ouders.csv --dry-run', 'portal parents import ouders.csv'],

  import: [
    'portal import --template planning.csv',
    'portal import planning.csv --dry-run',
    'portal import planning.csv --skip-invalid --date 2027-01-04',
  ],

  'staff add': [
    'portal staff add --email anna@deboomhut.nl --first-name Anna --infix de --last-name Vries --role manager',
    'portal staff add --email pieter@deboomhut.nl --first-name Pieter --last-name Bakker --role staff',
  ],
  'staff list': ['portal staff list', 'portal staff list --location Centrum --role manager'],
  'staff deactivate': ['portal staff deactivate pm@deboomhut.nl --reason "uit dienst per 1-1"', 'portal staff deactivate pm@deboomhut.nl --dry-run'],
  'staff reactivate': ['portal staff reactivate pm@deboomhut.nl', 'portal --json staff reactivate pm@deboomhut.nl --dry-run'],
  'staff set-role': ['portal staff set-role anna@deboomhut.nl manager', 'portal staff set-role anna@deboomhut.nl staff --dry-run'],
  'staff unassign': [
    'portal staff unassign pm@deboomhut.nl --group Centrum/Dolfijnen',
    'portal staff unassign anna@deboomhut.nl --location Noord',
    'portal staff unassign pm@deboomhut.nl --all --dry-run',
  ],
  'staff remove': ['portal staff remove pm@deboomhut.nl --dry-run', 'portal staff remove pm@deboomhut.nl --yes'],
  'staff assign': [
    'portal staff assign pieter@deboomhut.nl --group Centrum/Dolfijnen',
    'portal staff assign anna@deboomhut.nl --location Centrum',
    'portal staff assign pieter@deboomhut.nl --group Centrum/Dolfijnen --remove',
  ],
  'staff invite': ['portal staff invite --dry-run', 'portal staff invite anna@deboomhut.nl --resend'],
  'staff reset-password': ['portal staff reset-password anna@deboomhut.nl', 'portal staff reset-password anna@deboomhut.nl --no-wait'],

  'photos status': ['portal photos status', 'portal photos status --json'],
  'photos retry': ['portal photos retry --all', 'portal photos retry 0K3QX7M'],
  'photos trace': ['portal photos trace gelekte-foto.jpg', 'portal photos trace 0K3QX7M'],
  'photos prune': ['portal photos prune --dry-run', 'portal photos prune'],
  'photos external-export': ['portal photos external-export --out ./website-fotos', 'portal photos external-export --out /srv/nieuwsbrief/2026-12'],

  'schedule rules': [
    'portal schedule rules',
    'portal schedule rules --cancel-before 09:00 --swap-notice-days 2',
    'portal schedule rules Centrum --half-days inherit',
  ],
  'schedule import': ['portal schedule import contracten.csv --dry-run', 'portal schedule import contracten.csv'],
  'schedule show': ['portal schedule show K1042', 'portal --json schedule show K1042'],
  'schedule requests': ['portal schedule requests', 'portal schedule requests --location Centrum --status pending'],

  'mail status': ['portal mail status', 'portal --json mail status'],
  'mail retry': ['portal mail retry', 'portal mail status && portal mail retry'],
  'mail work': ['portal mail work', 'portal parents invite --no-wait && portal mail work'],

  'messages ambiguous': ['portal messages ambiguous', 'portal --json messages ambiguous'],
  'messages assign': ['portal messages assign 512 --child K1042', 'portal messages ambiguous && portal messages assign 513 --child K1043'],
  'messages confirmations': [
    'portal messages confirmations 3f2b8c1e-7d4a-4e2b-9c1a-5b6d7e8f9a0b',
    'portal --json messages confirmations 3f2b8c1e-7d4a-4e2b-9c1a-5b6d7e8f9a0b',
  ],
  'messages remind': [
    'portal messages remind 3f2b8c1e-7d4a-4e2b-9c1a-5b6d7e8f9a0b',
    'portal messages remind 3f2b8c1e-7d4a-4e2b-9c1a-5b6d7e8f9a0b || echo "already reminded today"',
  ],

  'talks slots': [
    'portal talks slots --group Centrum/Boomhut --date 2026-06-11 --from 15:00 --count 8 --minutes 15 --staff mia@deboomhut.nl --place "Kantoor"',
    'portal talks slots --group Dolfijnen --date 2026-06-12 --from 19:00 --count 4 --minutes 20 --staff joost@deboomhut.nl --video https://meet.example.nl/dolfijnen',
  ],
  'talks list': ['portal talks list', 'portal --json talks list --group Centrum/Boomhut'],

  audit: [
    'portal audit --since 2026-11-01 --type login.',
    'portal audit --subject eva.jansen@example.nl',
    'portal audit --child K1042 --limit 20',
  ],

  'access actions': ['portal access actions', 'portal --json access actions'],
  'access can': ['portal access can eva.jansen@example.nl child.read K1042', 'portal access can pieter@deboomhut.nl photo.view 8812'],

  'gdpr export': ['portal gdpr export eva.jansen@example.nl --out eva-jansen.zip', 'portal gdpr export tom@example.nl --out /srv/avg/tom-2026-12.zip'],
  'gdpr erase': ['portal gdpr erase eva.jansen@example.nl', 'portal gdpr erase eva.jansen@example.nl --yes'],

  'retention run': ['portal retention run --dry-run', 'portal retention run'],

  export: [
    'portal export --out /var/backups/portal',
    'portal export --out ./exports --format csv --tables child,parent,guardianship',
    'portal export --out /var/backups/portal --since 2026-11-24 --gzip',
  ],
  restore: [
    'PORTAL_DATABASE_URL=postgres://portal@db.example.nl/portal_new portal restore /var/backups/portal/export-20261124T020000Z',
    'portal --data-dir ./restored restore ./exports/export-20261124T020000Z',
    'portal --data-dir /srv/new/data restore /var/backups/portal/ouderportaal-backup-20261124T020000Z.tar',
  ],
  backup: [
    'portal backup --out /var/backups/portal',
    'PORTAL_PG_BIN=/usr/lib/postgresql/18/bin portal backup --out /var/backups/portal/nightly.tar.gz --gzip --force',
    'PORTAL_BACKUP_DUMP=native portal backup --out /var/backups/portal',
  ],

  'db create': ['PORTAL_DATABASE_URL=postgres://portal@db.example.nl/ouderportaal portal db create', 'portal db create --dry-run'],
  'db migrate': ['portal db migrate', 'PORTAL_DATABASE_URL=postgres://portal@db.example.nl/ouderportaal portal db migrate'],
  'db status': ['portal db status', 'portal --json db status'],

  serve: ['portal serve', 'portal serve --port 8080 --host 0.0.0.0', 'PORTAL_PORT=8080 portal serve'],

  'config show': ['portal config show', 'portal --config /etc/ouderportaal/portal.config.json config show'],
  doctor: ['portal doctor', 'portal --json doctor --timeout 5', 'portal doctor --min-free 5GiB,10%'],
  'storage migrate': [
    'portal storage migrate --to "s3://ouderportaal?endpoint=http://minio.intern:9000&region=eu-west-1&forcePathStyle=true" --dry-run',
    'portal storage migrate --to s3://ouderportaal-photos/prod?region=eu-central-1',
    'portal storage migrate --to /mnt/nas/ouderportaal',
  ],

  'helpdesk list': ['portal helpdesk list', 'portal helpdesk list --status all --limit 20'],
  'helpdesk show': ['portal helpdesk show HD-7K3QXM', 'portal --json helpdesk show HD-7K3QXM'],
  'helpdesk close': ['portal helpdesk close HD-7K3QXM', 'portal helpdesk list && portal helpdesk close HD-2M9PQR'],

  'faq import': ['portal faq import ./faq --dry-run', 'portal faq import ./faq'],
  'faq export': ['portal faq export ./faq', 'portal faq export ./faq-2026-12'],
  'faq list': ['portal faq list', 'portal faq list --location Centrum --language nl'],
};

/** Appends the examples of `cmd` (at `path`, e.g. ['staff', 'add']) and its subcommands to their help. */
export function addExamples(cmd: Command, path: readonly string[]): void {
  const examples = EXAMPLES[path.join(' ')];
  if (examples?.length) cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`);
  for (const sub of cmd.commands) addExamples(sub, [...path, sub.name()]);
}

import { z } from 'zod';
import { accentProblem } from './colours.ts';
import { storageUrlProblem } from './storage-url.ts';

/**
 * Every setting of the portal, with its default, its environment variable and what it means.
 * The README's settings table and `portal config show` are read from this list, so a new
 * setting is documented the moment it exists.
 */

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v)));

const port = z.coerce
  .number({ error: 'expected a whole number between 1 and 65535' })
  .int('expected a whole number between 1 and 65535')
  .min(1, 'expected a whole number between 1 and 65535')
  .max(65535, 'expected a whole number between 1 and 65535');

const postgresUrl = z
  .string()
  .trim()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a URL like postgres://user:password@host:5432/database');

/** The schriftje's structured lines unless the organisation configures its own. */
export const DEFAULT_DIARY_LINES = ['Eten en drinken', 'Slapen', 'Verschonen', 'Activiteiten', 'Stemming'] as const;

const diaryLines = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((label) => label.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().max(60, 'each label at most 60 characters'))
      .max(10, 'at most 10 lines')
      .refine((labels) => new Set(labels.map((l) => l.toLowerCase())).size === labels.length, 'labels must differ'),
  );

export const configSchema = z
  .object({
    server: z
      .object({
        // 0 asks the OS for any free port (tests, or several portals on one machine).
        port: z.coerce
          .number({ error: 'expected a whole number between 0 and 65535' })
          .int('expected a whole number between 0 and 65535')
          .min(0, 'expected a whole number between 0 and 65535')
          .max(65535, 'expected a whole number between 0 and 65535')
          .default(3000),
        host: z.string().min(1, 'expected a host name or IP address').default('127.0.0.1'),
        publicUrl: z.url({ error: 'expected an absolute URL like https://ouders.example.nl' }).optional(),
        trustProxy: bool.default(false),
        shutdownTimeoutMs: z.coerce.number().int().min(0).max(600_000).default(10_000),
      })
      .strict()
      .default({ port: 3000, host: '127.0.0.1', trustProxy: false, shutdownTimeoutMs: 10_000 }),
    dataDir: z.string().min(1, 'expected a folder path').default('./data'),
    storage: z
      .object({
        /** Photos, uploads and attachments: a folder or s3://bucket?… (config/storage-url.ts); default the data folder. */
        url: z
          .string()
          .trim()
          .superRefine((url, ctx) => {
            const problem = storageUrlProblem(url);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
          .optional(),
      })
      .strict()
      .default({}),
    database: z
      .object({
        url: postgresUrl.optional(),
        autoMigrate: bool.default(true),
        poolMax: z.coerce.number().int().min(1).max(200).default(10),
        embeddedPort: port.optional(),
      })
      .strict()
      .default({ autoMigrate: true, poolMax: 10 }),
    auth: z
      .object({
        // OWASP's floor for argon2id is m=19 MiB, t=2, p=1; the schema refuses anything weaker.
        argon2MemoryKiB: z.coerce.number().int().min(19_456, 'must be at least 19456 (19 MiB)').default(19_456),
        argon2TimeCost: z.coerce.number().int().min(2, 'must be at least 2').default(2),
        argon2Parallelism: z.coerce.number().int().min(1).max(16).default(1),
        /** How many hashes may run at once; caps memory under a burst of logins. */
        maxConcurrentHashes: z.coerce.number().int().min(1).max(64).default(4),
        initialPasswordDays: z.coerce.number().int().min(1).max(90).default(14),
        sessionIdleMinutes: z.coerce.number().int().min(5).max(24 * 60).default(30),
        sessionAbsoluteHours: z.coerce.number().int().min(1).max(24 * 30).default(12),
        resetLinkMinutes: z.coerce.number().int().min(10).max(24 * 60).default(60),
        /** Validity of the link that confirms a new e-mail address (sent to that address). */
        emailChangeLinkHours: z.coerce.number().int().min(1).max(24 * 7).default(24),
        /** Failed logins per address per hour from all IPs together; then the address is locked for the rest of the hour. */
        loginFailuresPerAccount: z.coerce.number().int().min(10).max(1000).default(20),
        /** E-mail change requests per account per hour (each one sends a mail). */
        emailChangesPerHour: z.coerce.number().int().min(1).max(100).default(5),
        /** Staff and admins must set up a second factor before they can work. */
        requireSecondFactorForStaff: bool.default(false),
      })
      .strict()
      .default({
        argon2MemoryKiB: 19_456,
        argon2TimeCost: 2,
        argon2Parallelism: 1,
        maxConcurrentHashes: 4,
        initialPasswordDays: 14,
        sessionIdleMinutes: 30,
        sessionAbsoluteHours: 12,
        resetLinkMinutes: 60,
        emailChangeLinkHours: 24,
        loginFailuresPerAccount: 20,
        emailChangesPerHour: 5,
        requireSecondFactorForStaff: false,
      }),
    mail: z
      .object({
        smtpUrl: z
          .string()
          .regex(/^smtps?:\/\/\S+$/, 'expected a URL like smtp://user:password@mail.example.nl:587')
          .optional(),
        from: z.string().min(3).optional(),
        /** Attempts per mail before it is dead-lettered (`portal mail status` shows it). */
        retryLimit: z.coerce.number().int().min(0).max(50).default(8),
        retryDelaySeconds: z.coerce.number().int().min(1).max(3600).default(30),
        /**
         * An account mail taken by a worker that then dies is given to another after this long:
         * a crash mid-send delays a parent by about this, not pg-boss's 15 minutes.
         */
        jobExpirySeconds: z.coerce.number().int().min(2).max(3600).default(60),
        /** One send's time limit (at most half the expiry), so a hung SMTP server cannot outlast the job. */
        sendTimeoutSeconds: z.coerce.number().int().min(1).max(600).default(20),
      })
      .strict()
      .default({ retryLimit: 8, retryDelaySeconds: 30, jobExpirySeconds: 60, sendTimeoutSeconds: 20 }),
    photos: z
      .object({
        /** Default: <dataDir>/photos. */
        dir: z.string().min(1).optional(),
        maxUploadBytes: z.coerce.number().int().min(1024).max(500 * 1024 * 1024).default(25 * 1024 * 1024),
        maxPixels: z.coerce.number().int().min(1_000_000).max(200_000_000).default(40_000_000),
        maxFilesPerUpload: z.coerce.number().int().min(1).max(200).default(50),
        retentionMonths: z.coerce.number().int().min(1).max(120).default(12),
      })
      .strict()
      .default({ maxUploadBytes: 25 * 1024 * 1024, maxPixels: 40_000_000, maxFilesPerUpload: 50, retentionMonths: 12 }),
    notifications: z
      .object({
        /** Hour of the day (Europe/Amsterdam, 0-23) at which daily digests go out. */
        digestHour: z.coerce.number().int().min(0, 'expected an hour from 0 to 23').max(23, 'expected an hour from 0 to 23').default(18),
      })
      .strict()
      .default({ digestHour: 18 }),
    diary: z
      .object({
        /**
         * The structured lines staff may fill in per child (labels in the organisation's own
         * words); a list in the config file, or comma-separated in the environment.
         */
        lines: diaryLines.default([...DEFAULT_DIARY_LINES]),
      })
      .strict()
      .default({ lines: [...DEFAULT_DIARY_LINES] }),
    talks: z
      .object({
        /**
         * Oudergesprekken (core/talks): staff may keep a short note with a talk that took place,
         * for staff only. Off by default: the report of a talk belongs in the child's file, not in
         * the portal, unless the organisation chooses otherwise.
         */
        notes: bool.default(false),
      })
      .strict()
      .default({ notes: false }),
    messages: z
      .object({
        /** Largest attachment (PDF or image) of a message or an announcement. */
        maxAttachmentBytes: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(5 * 1024 * 1024),
      })
      .strict()
      .default({ maxAttachmentBytes: 5 * 1024 * 1024 }),
    retention: z
      .object({
        /** Schriftje entries are removed this many months after their day. */
        diaryMonths: z.coerce.number().int().min(1).max(240).default(24),
        /** Conversations (after their last message) and announcements. */
        messagesMonths: z.coerce.number().int().min(1).max(240).default(24),
        /** Audit events (logins, downloads traced elsewhere, consent changes, …). */
        auditMonths: z.coerce.number().int().min(1).max(240).default(24),
        /** After a child leaves: days the parents can still download photos and schriftje. */
        leaverGraceDays: z.coerce.number().int().min(0).max(730).default(60),
        /**
         * Ziekmeldingen and ophaalberichten (day notes): removed this many days after their last
         * day. They tell the group about a day; a few months cover questions afterwards (a bill,
         * "was she ill that week?"), longer would make the portal a health record it is not.
         */
        dayNotesDays: z.coerce.number().int().min(1).max(730).default(90),
      })
      .strict()
      .default({ diaryMonths: 24, messagesMonths: 24, auditMonths: 24, leaverGraceDays: 60, dayNotesDays: 90 }),
    branding: z
      .object({
        /** The name in every page's header and in the app; default: the name from `portal init`. */
        name: z.string().trim().min(1).max(80).optional(),
        /** A PNG, JPEG, WebP or SVG file; served re-encoded as PNG (http/branding.ts). */
        logo: z.string().trim().min(1, 'expected the path of an image file').optional(),
        accentColour: z
          .string()
          .trim()
          .superRefine((colour, ctx) => {
            const problem = accentProblem(colour);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
          .optional(),
      })
      .strict()
      .default({}),
    /**
     * Settings per plugin, `plugins.<id>.…` (config file only); each plugin validates its own
     * slice when it loads (plugins/host.ts), so a bad one skips that plugin, not the portal.
     */
    plugins: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
        /** auto: JSON lines (pino) unless stderr is a terminal, then readable text. */
        format: z.enum(['auto', 'json', 'text']).default('auto'),
      })
      .strict()
      .default({ level: 'info', format: 'auto' }),
  })
  .strict()
  .superRefine((config, ctx) => {
    // photos.dir places the photos within a folder setup; a bucket has its own layout.
    if (config.photos.dir && config.storage.url?.toLowerCase().startsWith('s3:')) {
      ctx.addIssue({ code: 'custom', path: ['photos', 'dir'], message: 'only for folder storage: unset it when storage.url is s3://' });
    }
  });

export type PortalConfig = z.output<typeof configSchema>;
export type PortalConfigInput = z.input<typeof configSchema>;

export interface SettingDoc {
  key: string;
  env: string;
  default: string;
  description: string;
}

/** One row per setting: the env var that sets it and what it is for. */
export const settings: SettingDoc[] = [
  { key: 'server.port', env: 'PORTAL_PORT', default: '3000', description: 'HTTP port of the web server (0: any free port)' },
  {
    key: 'server.host',
    env: 'PORTAL_HOST',
    default: '127.0.0.1',
    description: 'Interface to listen on; 0.0.0.0 for all (put a TLS proxy in front)',
  },
  {
    key: 'server.publicUrl',
    env: 'PORTAL_PUBLIC_URL',
    default: '(organisation URL from `portal init`)',
    description: 'URL parents use; decides Secure cookies and the Origin check',
  },
  {
    key: 'server.trustProxy',
    env: 'PORTAL_TRUST_PROXY',
    default: 'false',
    description: 'Trust X-Forwarded-For/-Proto from a reverse proxy',
  },
  {
    key: 'server.shutdownTimeoutMs',
    env: 'PORTAL_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    description: 'How long SIGTERM waits for requests in flight',
  },
  {
    key: 'dataDir',
    env: 'PORTAL_DATA_DIR',
    default: './data',
    description: 'Folder for the embedded database, photos and mail files',
  },
  {
    key: 'storage.url',
    env: 'PORTAL_STORAGE_URL',
    default: '(dataDir)',
    description:
      'where photos, uploads and attachments are stored: a folder, file:// URL, or s3://bucket[/prefix]?endpoint=http://host:port&region=…&forcePathStyle=true (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
  },
  {
    key: 'database.url',
    env: 'PORTAL_DATABASE_URL',
    default: '(embedded PostgreSQL in dataDir/pg)',
    description: 'PostgreSQL server to use instead of the embedded one',
  },
  {
    key: 'database.autoMigrate',
    env: 'PORTAL_AUTO_MIGRATE',
    default: 'true',
    description: 'Apply pending migrations at start; false: refuse to start until `portal db migrate`',
  },
  {
    key: 'database.poolMax',
    env: 'PORTAL_DATABASE_POOL_MAX',
    default: '10',
    description: 'Connections per process',
  },
  {
    key: 'database.embeddedPort',
    env: 'PORTAL_EMBEDDED_PG_PORT',
    default: '(a free port)',
    description: 'Fixed port for the embedded PostgreSQL, e.g. to connect with psql',
  },
  {
    key: 'auth.argon2MemoryKiB',
    env: 'PORTAL_ARGON2_MEMORY_KIB',
    default: '19456',
    description: 'argon2id memory per hash (KiB); at least 19456',
  },
  { key: 'auth.argon2TimeCost', env: 'PORTAL_ARGON2_TIME_COST', default: '2', description: 'argon2id iterations; at least 2' },
  {
    key: 'auth.argon2Parallelism',
    env: 'PORTAL_ARGON2_PARALLELISM',
    default: '1',
    description: 'argon2id lanes per hash',
  },
  {
    key: 'auth.maxConcurrentHashes',
    env: 'PORTAL_MAX_CONCURRENT_HASHES',
    default: '4',
    description: 'password hashes computed at once (caps memory under a burst of logins)',
  },
  {
    key: 'auth.initialPasswordDays',
    env: 'PORTAL_INITIAL_PASSWORD_DAYS',
    default: '14',
    description: 'days a generated (invitation) password stays valid unused',
  },
  {
    key: 'auth.sessionIdleMinutes',
    env: 'PORTAL_SESSION_IDLE_MINUTES',
    default: '30',
    description: 'a session ends after this long without a request',
  },
  {
    key: 'auth.sessionAbsoluteHours',
    env: 'PORTAL_SESSION_ABSOLUTE_HOURS',
    default: '12',
    description: 'a session ends this long after login, active or not',
  },
  {
    key: 'auth.resetLinkMinutes',
    env: 'PORTAL_RESET_LINK_MINUTES',
    default: '60',
    description: 'validity of a "forgot password" link',
  },
  {
    key: 'auth.emailChangeLinkHours',
    env: 'PORTAL_EMAIL_CHANGE_LINK_HOURS',
    default: '24',
    description: 'validity of the link that confirms a new e-mail address',
  },
  {
    key: 'auth.loginFailuresPerAccount',
    env: 'PORTAL_LOGIN_FAILURES_PER_ACCOUNT',
    default: '20',
    description: 'failed logins per address per hour from all IPs together; then that address is locked for the rest of the hour and its owner gets a mail',
  },
  {
    key: 'auth.emailChangesPerHour',
    env: 'PORTAL_EMAIL_CHANGES_PER_HOUR',
    default: '5',
    description: 'e-mail change requests per account per hour',
  },
  {
    key: 'auth.requireSecondFactorForStaff',
    env: 'PORTAL_REQUIRE_2FA_STAFF',
    default: 'false',
    description: 'staff and admins must use a second factor (TOTP)',
  },
  {
    key: 'mail.smtpUrl',
    env: 'PORTAL_SMTP_URL',
    default: '(none: mails are written to dataDir/mail as .eml files)',
    description: 'SMTP server, e.g. smtp://user:pass@mail.example.nl:587 (STARTTLS)',
  },
  {
    key: 'mail.from',
    env: 'PORTAL_MAIL_FROM',
    default: '(the helpdesk address from `portal init`)',
    description: 'sender of the portal\'s e-mails',
  },
  {
    key: 'mail.retryLimit',
    env: 'PORTAL_MAIL_RETRY_LIMIT',
    default: '8',
    description: 'retries of a mail before it is dead-lettered',
  },
  {
    key: 'mail.retryDelaySeconds',
    env: 'PORTAL_MAIL_RETRY_DELAY_SECONDS',
    default: '30',
    description: 'first retry delay; doubles each time',
  },
  {
    key: 'mail.jobExpirySeconds',
    env: 'PORTAL_MAIL_JOB_EXPIRY_SECONDS',
    default: '60',
    description: 'an account mail whose worker died (crash, kill -9) goes to another worker after this long',
  },
  {
    key: 'mail.sendTimeoutSeconds',
    env: 'PORTAL_MAIL_SEND_TIMEOUT_SECONDS',
    default: '20',
    description: 'time limit of one send (at most half of mail.jobExpirySeconds); a send that runs out may still arrive and counts as possibly duplicated',
  },
  {
    key: 'photos.dir',
    env: 'PORTAL_PHOTOS_DIR',
    default: '(dataDir/photos)',
    description: 'where processed photos are stored (content-addressed, metadata stripped); folder storage only (see storage.url)',
  },
  {
    key: 'photos.maxUploadBytes',
    env: 'PORTAL_PHOTOS_MAX_UPLOAD_BYTES',
    default: '26214400',
    description: 'largest photo upload (25 MB); refused while streaming',
  },
  {
    key: 'photos.maxPixels',
    env: 'PORTAL_PHOTOS_MAX_PIXELS',
    default: '40000000',
    description: 'largest image size in pixels (40 MP); checked before decoding',
  },
  {
    key: 'photos.maxFilesPerUpload',
    env: 'PORTAL_PHOTOS_MAX_FILES_PER_UPLOAD',
    default: '50',
    description: 'most photos in one upload form (each file still has its own size limit)',
  },
  {
    key: 'photos.retentionMonths',
    env: 'PORTAL_PHOTOS_RETENTION_MONTHS',
    default: '12',
    description: 'photos older than this are removed (rows and files) by `portal photos prune` and the server',
  },
  {
    key: 'notifications.digestHour',
    env: 'PORTAL_DIGEST_HOUR',
    default: '18',
    description: 'hour (0-23, Dutch time) at which the daily e-mail digest goes out',
  },
  {
    key: 'diary.lines',
    env: 'PORTAL_DIARY_LINES',
    default: DEFAULT_DIARY_LINES.join(','),
    description: 'structured lines of the schriftje staff may fill in per child (comma-separated labels; at most 10)',
  },
  {
    key: 'talks.notes',
    env: 'PORTAL_TALKS_NOTES',
    default: 'false',
    description: 'staff may keep a short note (staff only) with an oudergesprek that took place; off: only who and when',
  },
  {
    key: 'messages.maxAttachmentBytes',
    env: 'PORTAL_MESSAGES_MAX_ATTACHMENT_BYTES',
    default: '5242880',
    description: 'largest attachment of a message or announcement (5 MB; PDF or image, checked by content)',
  },
  {
    key: 'retention.diaryMonths',
    env: 'PORTAL_RETENTION_DIARY_MONTHS',
    default: '24',
    description: 'schriftje entries are removed this many months after their day',
  },
  {
    key: 'retention.messagesMonths',
    env: 'PORTAL_RETENTION_MESSAGES_MONTHS',
    default: '24',
    description: 'conversations (after their last message) and announcements are removed after this many months',
  },
  {
    key: 'retention.auditMonths',
    env: 'PORTAL_RETENTION_AUDIT_MONTHS',
    default: '24',
    description: 'audit events are removed after this many months',
  },
  {
    key: 'retention.leaverGraceDays',
    env: 'PORTAL_RETENTION_LEAVER_GRACE_DAYS',
    default: '60',
    description: "after a child leaves: days the parents can still download photos and schriftje; then the child's schriftje, conversations and tags go",
  },
  {
    key: 'retention.dayNotesDays',
    env: 'PORTAL_RETENTION_DAY_NOTES_DAYS',
    default: '90',
    description: 'sick reports and pickup notes are removed this many days after their last day',
  },
  {
    key: 'branding.name',
    env: 'PORTAL_BRANDING_NAME',
    default: '(the organisation name from `portal init`)',
    description: 'name in the page header and in the app',
  },
  {
    key: 'branding.logo',
    env: 'PORTAL_BRANDING_LOGO',
    default: '(none: the name only)',
    description: 'PNG, JPEG, WebP or SVG file of the logo (header, login page, app); checked at start',
  },
  {
    key: 'branding.accentColour',
    env: 'PORTAL_BRANDING_ACCENT_COLOUR',
    default: '#1d5c63',
    description: 'links and buttons, e.g. #8a1c4a; needs 4.5:1 contrast on white (dark mode derives its own shade)',
  },
  { key: 'log.level', env: 'PORTAL_LOG_LEVEL', default: 'info', description: 'debug, info, warn, error or silent' },
  {
    key: 'log.format',
    env: 'PORTAL_LOG_FORMAT',
    default: 'auto',
    description: 'json (one pino object per line), text, or auto: json unless stderr is a terminal',
  },
];

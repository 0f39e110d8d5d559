import { z } from 'zod';

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
    database: z
      .object({
        url: postgresUrl.optional(),
        autoMigrate: bool.default(true),
        poolMax: z.coerce.number().int().min(1).max(200).default(10),
        embeddedPort: port.optional(),
      })
      .strict()
      .default({ autoMigrate: true, poolMax: 10 }),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

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
  { key: 'log.level', env: 'PORTAL_LOG_LEVEL', default: 'info', description: 'debug, info, warn, error or silent' },
];

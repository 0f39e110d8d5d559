import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Parent } from './parent.ts';
import { stamp } from '../clock.ts';

/**
 * A parent's "download mijn gegevens": asked in Mijn gegevens, built by a job, announced by a mail
 * with a link that works once the parent is logged in and until `expiresAt`. The token exists in
 * that mail only; here its SHA-256.
 */
export const DataExport = defineEntity({
  name: 'DataExport',
  tableName: 'data_export',
  indexes: [{ properties: ['parent', 'requestedAt'] }],
  properties: {
    id: p.integer().primary(),
    parent: p.manyToOne(Parent).deleteRule('cascade'),
    requestedAt: p.datetime().onCreate(stamp),
    readyAt: p.datetime().nullable(),
    /** Key of the ZIP in the exports store (its SHA-256; before that store, a random file name under <dataDir>/exports). */
    file: p.string().length(100).nullable(),
    tokenHash: p.string().length(64).nullable().unique(),
    expiresAt: p.datetime().nullable(),
    downloadedAt: p.datetime().nullable(),
  },
});
export type IDataExport = InferEntity<typeof DataExport>;

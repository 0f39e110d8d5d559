import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * A row deleted from an exported table, by its key only (never its content): written by a
 * trigger on each exported table (migration 20261125140000), read by `portal export --since`
 * so that a copy kept up to date from nightly change exports can delete what the portal deleted
 * (an AVG erasure included). Kept for DELETED_ROW_DAYS, then removed by the retention run.
 */
export const DeletedRow = defineEntity({
  name: 'DeletedRow',
  tableName: 'deleted_row',
  indexes: [{ properties: ['deletedAt'] }],
  properties: {
    id: p.integer().primary(),
    tableName: p.string().length(63),
    /** The primary key's columns and values, e.g. {"id": 12} or {"parent_id": 3, "child_id": 7}. */
    rowKey: p.json<Record<string, unknown>>(),
    deletedAt: p.datetime(),
  },
});
export type IDeletedRow = InferEntity<typeof DeletedRow>;

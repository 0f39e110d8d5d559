import { sideOf } from '../../core/access/index.ts';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Actor } from '../../core/actor.ts';
import { parseDate } from '../../core/dates.ts';
import { type DaySheetRow, diaryGroups, staffDayRow, staffDaySheet } from '../../core/diary/day-sheet.ts';
import {
  childDiary,
  type DiaryEntryView,
  type DiaryPage,
  diaryEntry,
  editParentEntry,
  markParentEntriesSeen,
  parentChildren,
  saveStaffEntry,
  writeParentEntry,
} from '../../core/diary/entries.ts';
import { addDiaryItems, DIARY_ITEM_CHOICES, type DiaryItemInput, removeDiaryItem } from '../../core/diary/items.ts';
import { diaryProgress } from '../../core/diary/progress.ts';
import { DIARY_ITEM_KINDS } from '../../core/entities/diary.ts';
import { type DomainError, isDomainError } from '../../core/errors.ts';
import type { Portal } from '../../core/portal.ts';
import { isUnstorableText } from '../../core/validation.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { isHtmx, seeOther } from '../forms.ts';
import type { Pages } from '../render.ts';
import { dayHeading } from './photos.ts';
import { clockOf } from '../../core/clock.ts';

/**
 * The schriftje. Parents: their child's entries by day (a switcher with more than one child),
 * the form to write in it, and their own entries of today to change. Staff: one screen per
 * group with a row per child; every row is its own form, which htmx posts and swaps alone (the
 * other rows keep what is being typed) and which without JavaScript posts and comes back to
 * that row (POST-redirect-GET). Every decision about who may do what is core's.
 */

export const DIARY_PATH = '/schriftje';
const childPath = (childId: number) => `${DIARY_PATH}/kind/${childId}`;
const rowPath = (childId: number) => `${DIARY_PATH}/rij/${childId}`;
const entryPath = (entryId: string) => `${DIARY_PATH}/stukje/${entryId}`;
const pickPath = (childId: number) => `${DIARY_PATH}/moment/kind/${childId}`;
const groupPickPath = (groupId: number) => `${DIARY_PATH}/moment/groep/${groupId}`;
const removePickPath = (itemId: string) => `${DIARY_PATH}/moment/${itemId}/weg`;

const timeFormat = new Intl.DateTimeFormat('nl-NL', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam' });

/** Form fields: the note, the photos (repeated), the version. */
const TEXT = 'tekst';
const PHOTO = 'foto';
const VERSION = 'versie';
const GROUP = 'groep';
/** Quick picks: the button pressed ("kind:value"), the times, the optional "what", the children (group form). */
const PICK = 'moment';
const FROM = 'van';
const TO = 'tot';
const WHAT = 'wat';
const CHILD = 'kind';

/** The pick the form describes; the button carries kind and value so one tap says it all. */
function pickInput(form: Form): DiaryItemInput {
  const [kind = '', value = ''] = one(form, PICK).split(':');
  return { kind, value, from: one(form, FROM), to: one(form, TO), detail: one(form, WHAT) };
}

/** What went wrong with a pick, as message keys by field. */
function pickProblems(err: DomainError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of err.details) {
    if (d.path === 'from' || d.path === 'to') {
      out[d.path] = /HH:MM/.test(d.message) ? 'diary.pick.problem.time' : /after/.test(d.message) ? 'diary.pick.problem.order' : 'diary.pick.problem.future';
    } else if (d.path === 'detail') out['detail'] = isUnstorableText(d.message) ? 'diary.problem.unstorable' : 'diary.pick.problem.detail';
    else if (d.path === 'children') out['children'] = 'diary.pick.problem.children';
    else out['pick'] = 'diary.pick.problem.choice';
  }
  return out;
}

type Form = Record<string, string | string[]>;

async function readAll(c: Context<AuthedEnv>): Promise<Form> {
  const body = await c.req.parseBody({ all: true });
  const out: Form = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter((v): v is string => typeof v === 'string');
  }
  return out;
}

const one = (form: Form, key: string): string => {
  const v = form[key];
  return typeof v === 'string' ? v : (v?.[0] ?? '');
};
const many = (form: Form, key: string): string[] => {
  const v = form[key];
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
};
const version = (form: Form): number | undefined => {
  const raw = one(form, VERSION);
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
};
const idParam = (raw: string | undefined): number => (raw && /^\d{1,9}$/.test(raw) ? Number(raw) : 0);

/** What a DomainError means next to the field (message keys), for forms that show it in place. */
function problems(err: DomainError): Record<string, string> {
  const out: Record<string, string> = {};
  if (err.code === 'conflict') out['form'] = 'diary.problem.conflict';
  else if (err.code === 'forbidden' && err.details.some((d) => d.path === 'day')) out['form'] = 'diary.problem.pastDay';
  for (const d of err.details) {
    if (d.path === 'text' && isUnstorableText(d.message)) out['text'] = 'diary.problem.unstorable';
    else if (d.path === 'text') out['text'] = /required|something/.test(d.message) ? 'diary.problem.empty' : 'diary.problem.tooLong';
    else if (d.path.startsWith('lines.')) out[d.path] = isUnstorableText(d.message) ? 'diary.problem.unstorable' : 'diary.problem.lineTooLong';
    else if (d.path === 'photoIds') out['photos'] = 'diary.problem.photos';
  }
  return out;
}

/** Errors a form shows in place (with what was typed); everything else goes to the error page. */
const inPlace = (err: unknown): err is DomainError =>
  isDomainError(err) &&
  (err.code === 'validation' || err.code === 'conflict' || (err.code === 'forbidden' && err.details.some((d) => d.path === 'day')));

export function diaryRoutes(
  app: Hono<AuthedEnv>,
  { portal, pages, secure }: { portal: Pick<Portal, 'config'>; pages: Pages; secure: boolean },
): void {
  const settings = portal.config.diary;
  const actorOf = (c: Context<AuthedEnv>): Actor => c.var.actor;

  /** Helpers every diary template gets. */
  const helpers = (c: Context<AuthedEnv>) => ({
    heading: (day: string) => dayHeading(c, `${day}T12:00:00Z`),
    time: (iso: string) => timeFormat.format(new Date(iso)),
    childPath,
    rowPath,
    entryPath,
    pickPath,
    groupPickPath,
    removePickPath,
    kinds: DIARY_ITEM_KINDS,
    choices: DIARY_ITEM_CHOICES,
    /** The time a pick form starts with: now, on the portal's clock. */
    nowTime: timeFormat.format(clockOf(c.var.em).now()),
  });

  /** Staff have now seen the parent entries on the page they get. */
  const markSeen = async (c: Context<AuthedEnv>, entries: DiaryEntryView[]) => {
    const ids = entries.filter((e) => e.authorKind === 'parent' && e.isNew).map((e) => e.id);
    if (ids.length) await markParentEntriesSeen(c.var.em, actorOf(c), ids);
  };

  // ---------------------------------------------------------------------------------------
  // Reading (parents and staff)

  const diaryPage = async (
    c: Context<AuthedEnv>,
    page: DiaryPage,
    extra: { typed?: string; errors?: Record<string, string> } = {},
    status: ContentfulStatusCode = 200,
  ) => {
    const actor = actorOf(c);
    const children = await parentChildren(c.var.em, actor);
    const response = pages.render(
      c,
      'pages/diary',
      {
        ...helpers(c),
        parent: sideOf(actor) === 'parent',
        children,
        page,
        more: page.nextBefore ? `${childPath(page.child.id)}?voor=${page.nextBefore}` : undefined,
        typed: extra.typed ?? '',
        errors: extra.errors ?? {},
      },
      status,
    );
    await markSeen(
      c,
      page.days.flatMap((d) => d.entries),
    );
    return response;
  };

  const showChild = async (c: Context<AuthedEnv>, childId: number) => {
    const raw = c.req.query('voor');
    const before = raw && parseDate(raw) === raw ? raw : undefined;
    const page = await childDiary(c.var.em, actorOf(c), childId, { before });
    c.header('Vary', 'HX-Request');
    if (isHtmx(c) && before) {
      const response = pages.render(c, 'partials/diary-days', {
        ...helpers(c),
        page,
        parent: sideOf(actorOf(c)) === 'parent',
        more: page.nextBefore ? `${childPath(page.child.id)}?voor=${page.nextBefore}` : undefined,
      });
      await markSeen(
        c,
        page.days.flatMap((d) => d.entries),
      );
      return response;
    }
    return await diaryPage(c, page);
  };

  app.get(DIARY_PATH, async (c) => {
    const actor = actorOf(c);
    if (sideOf(actor) === 'parent') {
      const [first] = await parentChildren(c.var.em, actor);
      if (!first) {
        return pages.render(c, 'pages/diary', { ...helpers(c), parent: true, children: [], page: undefined });
      }
      return await showChild(c, first.id);
    }
    const groups = await diaryGroups(c.var.em, actor);
    const chosen = idParam(c.req.query(GROUP)) || groups[0]?.id;
    if (!chosen) {
      return pages.render(c, 'pages/diary-staff', { ...helpers(c), groups, sheet: undefined });
    }
    return await daySheetPage(c, chosen);
  });

  app.get(`${DIARY_PATH}/kind/:childId`, async (c) => await showChild(c, idParam(c.req.param('childId'))));

  // ---------------------------------------------------------------------------------------
  // Parents write and change their own entries

  app.post(`${DIARY_PATH}/kind/:childId`, async (c) => {
    const childId = idParam(c.req.param('childId'));
    const form = await readAll(c);
    const text = one(form, TEXT);
    try {
      await writeParentEntry(c.var.em, actorOf(c), childId, { text });
    } catch (err) {
      if (!inPlace(err)) throw err;
      return await diaryPage(c, await childDiary(c.var.em, actorOf(c), childId), { typed: text, errors: problems(err) }, 422);
    }
    setFlash(c, 'diary_written', secure);
    return seeOther(c, childPath(childId));
  });

  const entryPage = async (
    c: Context<AuthedEnv>,
    entry: DiaryEntryView,
    extra: { typed?: string; errors?: Record<string, string> } = {},
    status: ContentfulStatusCode = 200,
  ) =>
    pages.render(
      c,
      'pages/diary-entry',
      { ...helpers(c), entry, typed: extra.typed ?? entry.text, errors: extra.errors ?? {} },
      status,
    );

  app.get(`${DIARY_PATH}/stukje/:entryId`, async (c) => {
    const entry = await diaryEntry(c.var.em, actorOf(c), c.req.param('entryId'));
    return await entryPage(c, entry);
  });

  app.post(`${DIARY_PATH}/stukje/:entryId`, async (c) => {
    const actor = actorOf(c);
    const entryId = c.req.param('entryId');
    const form = await readAll(c);
    const text = one(form, TEXT);
    try {
      const entry = await editParentEntry(c.var.em, actor, entryId, { text, version: version(form) });
      setFlash(c, 'diary_changed', secure);
      return seeOther(c, `${childPath(entry.childId)}#stukje-${entry.id}`);
    } catch (err) {
      if (!inPlace(err)) throw err;
      const entry = await diaryEntry(c.var.em, actor, entryId);
      return await entryPage(c, entry, { typed: text, errors: problems(err) }, err.code === 'conflict' ? 409 : err.code === 'forbidden' ? 403 : 422);
    }
  });

  // ---------------------------------------------------------------------------------------
  // Staff: the day sheet of a group, saved row by row

  interface RowState {
    values?: { text: string; photoIds: string[] };
    errors?: Record<string, string>;
    savedAt?: string;
  }

  /** What a pick form shows after a failed tap: the times and "what" as typed, and why. */
  interface PickState {
    typed?: { from: string; to: string; detail: string; children?: number[] };
    errors?: Record<string, string>;
    savedAt?: string;
  }

  const rowData = (c: Context<AuthedEnv>, row: DaySheetRow, groupId: number, state: RowState = {}, pick: PickState = {}) => {
    const entry = row.entry;
    const values = state.values ?? { text: entry?.text ?? '', photoIds: entry?.photos.map((p) => p.id) ?? [] };
    return {
      ...helpers(c),
      row,
      groupId,
      values,
      errors: state.errors ?? {},
      savedAt: state.savedAt,
      pick: { typed: pick.typed, errors: pick.errors ?? {}, savedAt: pick.savedAt },
    };
  };

  const daySheetPage = async (
    c: Context<AuthedEnv>,
    groupId: number,
    override?: { childId: number; row?: RowState; pick?: PickState },
    group?: PickState,
    status: ContentfulStatusCode = 200,
  ) => {
    const actor = actorOf(c);
    const sheet = await staffDaySheet(c.var.em, actor, settings, groupId);
    const [groups, progress] = await Promise.all([diaryGroups(c.var.em, actor), diaryProgress(c.var.em, actor, groupId)]);
    const response = pages.render(
      c,
      'pages/diary-staff',
      {
        ...helpers(c),
        groups,
        sheet,
        progress,
        group: { typed: group?.typed, errors: group?.errors ?? {}, savedAt: group?.savedAt },
        rows: sheet.rows.map((row) =>
          override?.childId === row.child.id ? rowData(c, row, groupId, override.row, override.pick) : rowData(c, row, groupId),
        ),
      },
      status,
    );
    await markSeen(
      c,
      sheet.rows.flatMap((r) => r.parentEntries),
    );
    return response;
  };

  /** The group of the form, or the actor's first group (a form without one still lands somewhere). */
  const groupOf = async (c: Context<AuthedEnv>, form: Form) => idParam(one(form, GROUP)) || (await diaryGroups(c.var.em, actorOf(c)))[0]?.id || 0;

  /** htmx: the child's picks and, out of band, the group's progress ("written for n of m"). */
  const picksFragment = async (c: Context<AuthedEnv>, childIds: number[], groupId: number, pick: PickState, status: ContentfulStatusCode, oobAll = false) => {
    let html = '';
    for (const [i, childId] of childIds.entries()) {
      const row = await staffDayRow(c.var.em, actorOf(c), childId);
      html += await (await pages.render(c, 'partials/diary-moments', { ...rowData(c, row, groupId, {}, i === 0 ? pick : {}), oob: oobAll })).text();
    }
    const progress = groupId ? await diaryProgress(c.var.em, actorOf(c), groupId).catch(() => undefined) : undefined;
    if (progress) html += await (await pages.render(c, 'partials/diary-progress', { ...helpers(c), progress, oob: true })).text();
    return c.html(html, status);
  };

  // One child: the pick buttons of its card.
  app.post(`${DIARY_PATH}/moment/kind/:childId`, async (c) => {
    const actor = actorOf(c);
    const childId = idParam(c.req.param('childId'));
    const form = await readAll(c);
    const groupId = await groupOf(c, form);
    const input = pickInput(form);
    try {
      await addDiaryItems(c.var.em, actor, [childId], input);
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      const pick: PickState = { typed: { from: input.from, to: input.to ?? '', detail: input.detail ?? '' }, errors: pickProblems(err) };
      if (!isHtmx(c)) return await daySheetPage(c, groupId, { childId, pick }, undefined, 422);
      return await picksFragment(c, [childId], groupId, pick, 422);
    }
    if (!isHtmx(c)) {
      setFlash(c, 'diary_saved', secure);
      return c.redirect(`${DIARY_PATH}?${GROUP}=${groupId}#kind-${childId}`, 303);
    }
    return await picksFragment(c, [childId], groupId, { savedAt: timeFormat.format(clockOf(c.var.em).now()) }, 200);
  });

  // Several children at once ("slept 12:30–14:00" for the whole nap room).
  app.post(`${DIARY_PATH}/moment/groep/:groupId`, async (c) => {
    const actor = actorOf(c);
    const groupId = idParam(c.req.param('groupId'));
    // A group the actor does not work in is "not found", like any other child or group.
    await diaryProgress(c.var.em, actor, groupId);
    const form = await readAll(c);
    const input = pickInput(form);
    const childIds = many(form, CHILD).map(idParam);
    try {
      await addDiaryItems(c.var.em, actor, childIds, input);
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      const group: PickState = {
        typed: { from: input.from, to: input.to ?? '', detail: input.detail ?? '', children: childIds },
        errors: pickProblems(err),
      };
      if (!isHtmx(c)) return await daySheetPage(c, groupId, undefined, group, 422);
      return c.html(await (await pages.render(c, 'partials/diary-group-status', { ...helpers(c), group })).text(), 422);
    }
    if (!isHtmx(c)) {
      setFlash(c, 'diary_saved', secure);
      return c.redirect(`${DIARY_PATH}?${GROUP}=${groupId}`, 303);
    }
    const status = await (await pages.render(c, 'partials/diary-group-status', { ...helpers(c), group: { savedAt: timeFormat.format(clockOf(c.var.em).now()), count: childIds.length } })).text();
    const rest = await (await picksFragment(c, childIds, groupId, {}, 200, true)).text();
    return c.html(status + rest, 200);
  });

  // Taking a pick back (a mistap), today only.
  app.post(`${DIARY_PATH}/moment/:itemId/weg`, async (c) => {
    const actor = actorOf(c);
    const form = await readAll(c);
    const groupId = await groupOf(c, form);
    const { childId } = await removeDiaryItem(c.var.em, actor, c.req.param('itemId'));
    if (!isHtmx(c)) {
      setFlash(c, 'diary_saved', secure);
      return c.redirect(`${DIARY_PATH}?${GROUP}=${groupId}#kind-${childId}`, 303);
    }
    return await picksFragment(c, [childId], groupId, {}, 200);
  });

  // The note (and photos) of one child, saved on its own.
  app.post(`${DIARY_PATH}/rij/:childId`, async (c) => {
    const actor = actorOf(c);
    const childId = idParam(c.req.param('childId'));
    const form = await readAll(c);
    const groupId = idParam(one(form, GROUP));
    const values = { text: one(form, TEXT), photoIds: many(form, PHOTO) };
    let state: RowState;
    let status: ContentfulStatusCode = 200;
    try {
      await saveStaffEntry(c.var.em, actor, settings, childId, { text: values.text, photoIds: values.photoIds, version: version(form) });
      if (!isHtmx(c)) {
        setFlash(c, 'diary_saved', secure);
        return c.redirect(`${DIARY_PATH}?${GROUP}=${groupId}#kind-${childId}`, 303);
      }
      state = { savedAt: timeFormat.format(clockOf(c.var.em).now()) };
    } catch (err) {
      if (!inPlace(err)) throw err;
      // The form keeps what was typed; a conflict shows the colleague's version in the history.
      state = { values, errors: problems(err) };
      status = err.code === 'conflict' ? 409 : 422;
      if (!isHtmx(c)) {
        return await daySheetPage(c, groupId || (await diaryGroups(c.var.em, actor))[0]?.id || 0, { childId, row: state }, undefined, status);
      }
    }
    const row = await staffDayRow(c.var.em, actor, childId);
    const html = await (await pages.render(c, 'partials/diary-note', rowData(c, row, groupId, state), status)).text();
    const progress = groupId ? await diaryProgress(c.var.em, actor, groupId).catch(() => undefined) : undefined;
    const oob = progress ? await (await pages.render(c, 'partials/diary-progress', { ...helpers(c), progress, oob: true })).text() : '';
    return c.html(html + oob, status);
  });
}

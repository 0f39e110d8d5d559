import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isAdmin, isManager, sideOf } from '../../core/access/index.ts';
import { type BoardGroup, mentorBoard, myMentorChildren, setChildMentor } from '../../core/directory/mentor.ts';
import { invalid, isDomainError, notFound } from '../../core/errors.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { isHtmx, readForm } from '../forms.ts';
import type { Pages } from '../render.ts';

/**
 * The mentor pages. /mentoren: the location manager chooses, per group, each child's mentor among
 * the group's staff (one form per child: without JavaScript it posts and the page comes back at
 * the child; htmx saves and swaps only that row). /mentorkinderen: a staff member's own mentor
 * children, with the way to their schriftje. Core decides who may (child.setMentor): another
 * location's child is "not found", an unsuitable mentor a 422 next to the select.
 */

export const MENTORS_PATH = '/mentoren';
export const MY_MENTOR_CHILDREN_PATH = '/mentorkinderen';
const rowPath = (childId: number) => `${MENTORS_PATH}/kind/${childId}`;

const id = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

/** A failed save of one row, shown next to its select. */
interface RowError {
  childId: number;
  message: string;
}

export function mentorRoutes(app: Hono<AuthedEnv>, deps: { pages: Pages; secure: boolean }): void {
  const { pages, secure } = deps;

  const boardPage = async (c: Context<AuthedEnv>, error?: RowError, status: ContentfulStatusCode = 200) => {
    if (sideOf(c.var.actor) === 'parent') throw notFound('page');
    const groups = await mentorBoard(c.var.em, c.var.actor);
    return pages.render(c, 'pages/mentor-board', { groups, rowPath, error }, status);
  };

  app.get(MENTORS_PATH, async (c) => await boardPage(c));

  app.post(`${MENTORS_PATH}/kind/:id`, async (c) => {
    const childId = id(c.req.param('id'));
    const form = await readForm(c);
    const raw = (form.mentor ?? '').trim();
    try {
      const mentor = raw === '' ? null : /^\d{1,9}$/.test(raw) ? { staffId: Number(raw) } : null;
      if (raw !== '' && mentor === null) throw invalid('mentor', 'choose a staff member from the list');
      await setChildMentor(c.var.em, c.var.actor, { id: childId }, mentor);
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'validation') throw err;
      const error = { childId, message: c.var.t('mentor.error.mentor') };
      if (!isHtmx(c)) return await boardPage(c, error, 422);
      return await rowFragment(c, childId, error, 422);
    }
    if (!isHtmx(c)) {
      setFlash(c, 'mentor_saved', secure);
      return c.redirect(`${MENTORS_PATH}#kind-${childId}`, 303);
    }
    return await rowFragment(c, childId, undefined, 200, true);
  });

  /** One child's row as it now stands, for htmx to swap in. */
  const rowFragment = async (c: Context<AuthedEnv>, childId: number, error: RowError | undefined, status: ContentfulStatusCode, saved = false) => {
    const groups: BoardGroup[] = await mentorBoard(c.var.em, c.var.actor);
    const group = groups.find((g) => g.children.some((ch) => ch.id === childId));
    const child = group?.children.find((ch) => ch.id === childId);
    if (!group || !child) throw notFound('child');
    const html = await (await pages.render(c, 'partials/mentor-row', { group, child, rowPath, error, saved })).text();
    return c.html(html, status);
  };

  app.get(MY_MENTOR_CHILDREN_PATH, async (c) => {
    if (sideOf(c.var.actor) === 'parent') throw notFound('page');
    const children = await myMentorChildren(c.var.em, c.var.actor);
    const canChoose = isManager(c.var.actor) || isAdmin(c.var.actor);
    return pages.render(c, 'pages/mentor-children', { children, boardPath: canChoose ? MENTORS_PATH : undefined });
  });
}

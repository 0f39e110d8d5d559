import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type DomainError, isDomainError } from '../../core/errors.ts';
import { clearPickup, PICKUP_LIMITS, pickupForm, setPickup } from '../../core/pickup/pickup.ts';
import type { Portal } from '../../core/portal.ts';
import { spokenDate } from '../../core/schedule/decision-mail.ts';
import { endSick, SICK_MAX_DAYS, SICK_NOTE_MAX, reportSick, sickForm } from '../../core/schedule/sick.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { readForm, seeOther } from '../forms.ts';
import type { Pages } from '../render.ts';

/**
 * The parent's two forms on the child card: Ziek melden (today is filled in, so two taps: the
 * link on the card, then the button) and Ophalen (who picks the child up today or tomorrow, and
 * when). Core decides who may (another family's child is 404 before anything is read) and what
 * is valid; a refusal is shown next to its field (422) with what was typed.
 */

export const childDayPath = (childId: number) => `/kind/${childId}`;
export const sickPath = (childId: number) => `${childDayPath(childId)}/ziek`;
export const pickupPath = (childId: number) => `${childDayPath(childId)}/ophalen`;

const id = (value: string | undefined) => (value && /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN);

/** Core's validation details as field → message key, for the fields these forms have. */
function fieldErrors(err: DomainError, prefix: 'sick' | 'pickup'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of err.details) {
    const field = d.path.split('.')[0] ?? 'form';
    out[field] = `${prefix}.error.${field}`;
  }
  if (Object.keys(out).length === 0) out['form'] = `${prefix}.error.form`;
  return out;
}

export function childDayRoutes(app: Hono<AuthedEnv>, deps: { portal: Portal; pages: Pages; secure: boolean }): void {
  const { pages, secure } = deps;
  const spoken = (c: Context<AuthedEnv>, date: string) => spokenDate(date, c.var.lang);

  // --- Ziek melden ------------------------------------------------------------------------------

  const sickPage = async (c: Context<AuthedEnv>, childId: number, errors: Record<string, string> = {}, values: Record<string, string> = {}, status: ContentfulStatusCode = 200) => {
    const form = await sickForm(c.var.em, c.var.actor, childId);
    return pages.render(
      c,
      'pages/sick-report',
      {
        form,
        action: sickPath(childId),
        betterAction: `${sickPath(childId)}/beter`,
        open: form.open.map((r) => ({
          ...r,
          label: r.fromDate === r.untilDate ? spoken(c, r.fromDate) : c.var.t('sick.span', { from: spoken(c, r.fromDate), until: spoken(c, r.untilDate) }),
        })),
        todayLabel: spoken(c, form.today),
        maxDays: SICK_MAX_DAYS,
        noteMax: SICK_NOTE_MAX,
        errors: Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, c.var.t(v as never, { days: SICK_MAX_DAYS })])),
        values: { van: values.van ?? form.today, tot: values.tot ?? '', notitie: values.notitie ?? '' },
      },
      status,
    );
  };

  app.get('/kind/:id/ziek', async (c) => await sickPage(c, id(c.req.param('id'))));

  app.post('/kind/:id/ziek', async (c) => {
    const childId = id(c.req.param('id'));
    const form = await readForm(c);
    try {
      await reportSick(c.var.em, c.var.actor, { childId, from: form.van, until: form.tot, note: form.notitie });
    } catch (err) {
      if (isDomainError(err) && err.code === 'validation') {
        const map: Record<string, string> = { from: 'van', until: 'tot', note: 'notitie' };
        const errors: Record<string, string> = {};
        for (const [field, key] of Object.entries(fieldErrors(err, 'sick'))) errors[map[field] ?? 'form'] = map[field] ? key : 'sick.error.form';
        return await sickPage(c, childId, errors, form, 422);
      }
      throw err;
    }
    setFlash(c, 'sick_reported', secure);
    return seeOther(c, '/');
  });

  app.post('/kind/:id/ziek/beter', async (c) => {
    await readForm(c);
    await endSick(c.var.em, c.var.actor, id(c.req.param('id')));
    setFlash(c, 'sick_ended', secure);
    return seeOther(c, '/');
  });

  // --- Ophalen ----------------------------------------------------------------------------------

  const pickupPage = async (c: Context<AuthedEnv>, childId: number, errors: Record<string, string> = {}, values?: Record<string, string>, status: ContentfulStatusCode = 200) => {
    const form = await pickupForm(c.var.em, c.var.actor, childId);
    const chosen = values?.dag && form.days.includes(values.dag) ? values.dag : form.days[0];
    const current = form.notes.find((n) => n.date === chosen);
    return pages.render(
      c,
      'pages/pickup',
      {
        form,
        action: pickupPath(childId),
        clearAction: `${pickupPath(childId)}/wissen`,
        days: form.days.map((d, i) => ({ value: d, label: c.var.t(i === 0 ? 'pickup.today' : 'pickup.tomorrow', { date: spoken(c, d) }), checked: d === chosen })),
        notes: form.notes.map((n) => ({ ...n, dayLabel: c.var.t(n.date === form.days[0] ? 'pickup.today' : 'pickup.tomorrow', { date: spoken(c, n.date) }) })),
        limits: PICKUP_LIMITS,
        errors: Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, c.var.t(v as never)])),
        values: values ?? { naam: current?.name ?? '', relatie: current?.relation ?? '', tijd: current?.time ?? '', notitie: current?.note ?? '' },
      },
      status,
    );
  };

  app.get('/kind/:id/ophalen', async (c) => await pickupPage(c, id(c.req.param('id'))));

  app.post('/kind/:id/ophalen', async (c) => {
    const childId = id(c.req.param('id'));
    const form = await readForm(c);
    try {
      await setPickup(c.var.em, c.var.actor, { childId, date: form.dag, name: form.naam ?? '', relation: form.relatie, time: form.tijd ?? '', note: form.notitie });
    } catch (err) {
      if (isDomainError(err) && err.code === 'validation') {
        const map: Record<string, string> = { name: 'naam', relation: 'relatie', time: 'tijd', note: 'notitie', date: 'dag' };
        const errors: Record<string, string> = {};
        for (const [field, key] of Object.entries(fieldErrors(err, 'pickup'))) errors[map[field] ?? 'form'] = map[field] ? key : 'pickup.error.form';
        return await pickupPage(c, childId, errors, form, 422);
      }
      throw err;
    }
    setFlash(c, 'pickup_saved', secure);
    return seeOther(c, '/');
  });

  app.post('/kind/:id/ophalen/wissen', async (c) => {
    const form = await readForm(c);
    await clearPickup(c.var.em, c.var.actor, id(c.req.param('id')), form.dag);
    setFlash(c, 'pickup_cleared', secure);
    return seeOther(c, '/');
  });
}

import type { Rules } from '../../core/schedule/rules.ts';
import type { FaqLanguage } from './entity.ts';

/**
 * The FAQ's tiny placeholder language, so answers quote the rules the portal enforces instead
 * of copies of them that go stale:
 *
 *   {{cancelBefore}}        09:00
 *   {{swapNoticeDays}}      "1 dag" / "2 dagen" (en: "1 day" / "2 days")
 *   {{creditValidWeeks}}    "1 week" / "8 weken" (en: "8 weeks")
 *   {{#halfDaysSwappable}}…{{/halfDaysSwappable}}   shown when the rule is on
 *   {{^halfDaysSwappable}}…{{/halfDaysSwappable}}   shown when it is off
 *   (the same two for closedOnPublicHolidays)
 *
 * Anything else between {{ and }} is an error at import, with its line, so a typo never
 * reaches a parent as literal braces.
 */

export const VALUE_NAMES = ['cancelBefore', 'swapNoticeDays', 'creditValidWeeks'] as const;
export const FLAG_NAMES = ['halfDaysSwappable', 'closedOnPublicHolidays'] as const;
type ValueName = (typeof VALUE_NAMES)[number];
type FlagName = (typeof FLAG_NAMES)[number];

export type TemplateRules = Pick<Rules, ValueName | FlagName>;

export interface TemplateProblem {
  /** 1-based, within the text checked. */
  line: number;
  message: string;
}

const TAG = /\{\{\s*([#^/]?)\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;
const isValue = (name: string): name is ValueName => (VALUE_NAMES as readonly string[]).includes(name);
const isFlag = (name: string): name is FlagName => (FLAG_NAMES as readonly string[]).includes(name);
const lineAt = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Every problem in one text: unknown names, stray braces, sections not closed or crossed. */
export function checkTemplate(text: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const open: { name: string; line: number }[] = [];
  for (const m of text.matchAll(TAG)) {
    const [tag, kind, name] = m as unknown as [string, string, string];
    const line = lineAt(text, m.index);
    if (kind === '') {
      if (isValue(name)) continue;
      problems.push({
        line,
        message: isFlag(name)
          ? `${tag}: ${name} is yes/no; use {{#${name}}}…{{/${name}}} or {{^${name}}}…{{/${name}}}`
          : `unknown placeholder ${tag} (known: ${[...VALUE_NAMES, ...FLAG_NAMES].join(', ')})`,
      });
    } else if (!isFlag(name)) {
      problems.push({
        line,
        message: isValue(name)
          ? `${tag}: only yes/no rules (${FLAG_NAMES.join(', ')}) can open or close a block`
          : `unknown placeholder ${tag} (known: ${[...VALUE_NAMES, ...FLAG_NAMES].join(', ')})`,
      });
    } else if (kind === '/') {
      const top = open.pop();
      if (!top) problems.push({ line, message: `${tag} closes a block that was not opened` });
      else if (top.name !== name) problems.push({ line, message: `${tag} closes {{#${top.name}}} of line ${top.line}` });
    } else {
      open.push({ name, line });
    }
  }
  for (const o of open) problems.push({ line: o.line, message: `{{#${o.name}}} is not closed with {{/${o.name}}}` });
  // Braces that are not a tag at all ("{{ cancel before }}", "{{x"): a typo, not text.
  const rest = text.replace(TAG, (tag) => ' '.repeat(tag.length));
  for (const m of rest.matchAll(/\{\{[^{}\n]*\}\}|\{\{|\}\}/g)) {
    problems.push({ line: lineAt(rest, m.index), message: `"${m[0]}" is not a placeholder (write e.g. {{creditValidWeeks}})` });
  }
  return problems;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The words a value becomes; digits, letters, a colon and a space only, so nothing to inject. */
export function valueText(name: ValueName, rules: TemplateRules, lang: FaqLanguage): string {
  switch (name) {
    case 'cancelBefore':
      return /^\d\d:\d\d$/.test(rules.cancelBefore) ? rules.cancelBefore : '';
    case 'swapNoticeDays':
      return lang === 'en' ? plural(rules.swapNoticeDays, 'day', 'days') : plural(rules.swapNoticeDays, 'dag', 'dagen');
    case 'creditValidWeeks':
      return lang === 'en' ? plural(rules.creditValidWeeks, 'week', 'weeks') : plural(rules.creditValidWeeks, 'week', 'weken');
  }
}

/**
 * Fills a checked text in. Values are escaped for Markdown when the text will be rendered as
 * Markdown (the answer), belt and braces: valueText() already yields only plain characters.
 */
export function fillTemplate(text: string, rules: TemplateRules, lang: FaqLanguage, markdown: boolean): string {
  // A block tag alone on its line takes the line with it (as in Mustache), so a conditional
  // list item leaves no blank line behind that would break the list apart.
  const source = text.replace(/^[ \t]*(\{\{\s*[#^/]\s*[A-Za-z][A-Za-z0-9]*\s*\}\})[ \t]*(?:\n|$)/gm, '$1');
  const shown: boolean[] = [];
  let out = '';
  let last = 0;
  const visible = () => shown.every(Boolean);
  for (const m of source.matchAll(TAG)) {
    const [tag, kind, name] = m as unknown as [string, string, string];
    if (visible()) out += source.slice(last, m.index);
    last = m.index + tag.length;
    if (kind === '' && isValue(name)) {
      if (visible()) {
        const value = valueText(name, rules, lang);
        out += markdown ? value.replace(/[\\`*_{}[\]()#+\-.!<>|~&]/g, '\\$&') : value;
      }
    } else if (kind === '/') {
      shown.pop();
    } else if (isFlag(name)) {
      shown.push(kind === '#' ? rules[name] : !rules[name]);
    }
  }
  if (visible()) out += source.slice(last);
  // A block on lines of its own leaves empty lines behind; more than one in a row means nothing in Markdown.
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

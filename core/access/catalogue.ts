import { conditions as is } from './conditions.ts';
import { type Rule, rules as r, where } from './rules.ts';
import type { TargetKind } from './targets.ts';

/**
 * Everything an actor can do in the portal, by name, each declared once from the shared rules:
 * an actor may perform an action on an object when any of its rules reaches the object. One
 * declaration serves the check on one object (`authorize`), the scope of a list (`scopeOf`) and
 * the buttons a page or the app shows (`permittedActions`), so a list and a single read can
 * never disagree. Refused is always "not found": a refusal never confirms that something exists.
 *
 * Adding an action: declare it here, give it a row in the matrix expectations
 * (core/access/matrix.test.ts fails until it has one) and name it in the use case.
 */

interface ActionDeclaration {
  target: TargetKind;
  /** What the action is, in words (shown by `portal access actions`). */
  does: string;
  anyOf: readonly Rule[];
}

const declare = <T extends Record<string, ActionDeclaration>>(actions: T) => actions;

/** A task of the organisation's administrators, about no object of its own. */
const adminTask = (does: string) => ({ target: 'organisation' as const, does, anyOf: [r.admin] });

/** Staff of the group, the location's manager, or an administrator. */
const orgOfGroup = [r.admin, r.staffOfGroup, r.managerOfLocation] as const;
/** A guardian, staff of the child's group today, the location's manager, or an administrator. */
const seesChild = [r.admin, r.guardian, r.staffOfChild] as const;

export const catalogue = declare({
  // --- the organisation (administration from the terminal or an admin account) ---------------
  'directory.manage': adminTask('provision locations, groups, children, parents and staff'),
  'audit.read': adminTask('read the audit log'),
  'photo.trace': adminTask('trace a leaked image to the parent who took it'),
  'gdpr.manage': adminTask('export or erase the data of any family'),
  'consent.record': adminTask("record a child's photo consent"),
  'accounts.manage': adminTask('invite, suspend and reinstate accounts'),
  'data.export': adminTask('run the nightly export and restore it'),
  'retention.manage': adminTask('apply the retention periods'),
  'mail.status': adminTask("see and retry the mail queue"),
  'schedule.manage': adminTask('import contracted days and set the afmelden and ruilen rules'),
  'photo.externalExport': adminTask('export photos with external consent for publication'),
  'photo.pipeline': adminTask('see the photo pipeline (processing, failed) and retry failed photos'),
  'helpdesk.manage': adminTask('handle helpdesk requests and their settings'),
  'faq.manage': adminTask('edit the FAQ'),

  // --- locations and groups -------------------------------------------------------------------
  'location.read': {
    target: 'location',
    does: "see a location's details (mijn vestiging)",
    anyOf: [r.admin, r.parentAtOrGoingToLocation, r.staffAtLocation, r.managerOfLocationItself],
  },
  'group.read': {
    target: 'group',
    does: 'see a group: parents the groups of their children today, staff the groups they work in',
    anyOf: [...orgOfGroup, r.parentInGroup],
  },
  'group.work': { target: 'group', does: 'work in a group: its day, its photos, its schriftjes', anyOf: [...orgOfGroup] },
  'group.today': {
    target: 'group',
    does: "see a group's day (Vandaag): who comes, who is ill, who picks up whom",
    anyOf: [...orgOfGroup],
  },
  'group.photos.upload': { target: 'group', does: 'upload photos to a group', anyOf: orgOfGroup.map((rule) => where(rule, is.groupOpen)) },
  'group.messages.read': { target: 'group', does: "read a group's conversations with parents", anyOf: [...orgOfGroup] },
  'group.announce': {
    target: 'group',
    does: 'send an announcement to the parents of a group',
    anyOf: [where(r.adminInPerson, is.groupOpen), where(r.staffOfGroup, is.groupOpen), where(r.managerOfLocation, is.groupOpen)],
  },
  'location.announce': {
    target: 'location',
    does: 'send an announcement to the parents of a whole location',
    anyOf: [r.adminInPerson, r.managerOfLocationItself],
  },
  'thread.start': {
    target: 'group',
    does: 'start a conversation with a group about one of their children',
    anyOf: [where(r.parentInGroup, is.groupOpen)],
  },
  'group.days': {
    target: 'group',
    does: "cancel and swap contracted days in a group (for one's own child, or as its location's manager)",
    anyOf: [r.admin, r.parentWithContract, r.managerOfLocation],
  },
  'swap.decide': { target: 'group', does: 'approve or refuse swap requests of a group', anyOf: [r.admin, r.managerOfLocation] },

  // --- children -------------------------------------------------------------------------------
  'child.read': { target: 'child', does: 'see a child and its details', anyOf: [...seesChild] },
  'diary.read': { target: 'child', does: "read a child's schriftje", anyOf: [...seesChild] },
  'diary.write.parent': {
    target: 'child',
    does: "write in their own child's schriftje (the child is placed today)",
    anyOf: [r.guardian],
  },
  'diary.write.staff': { target: 'child', does: "write a child's schriftje for the group", anyOf: [r.admin, r.staffOfChild] },
  'schedule.act': {
    target: 'child',
    does: 'cancel (afmelden) and swap (ruilen) days of a child',
    anyOf: [r.admin, r.guardian, r.managerOfChild],
  },
  'schedule.read': { target: 'child', does: "see a child's contracted days, cancellations and credits", anyOf: [...seesChild] },
  'child.photos.read': { target: 'child', does: 'see the photos in which their own child is tagged', anyOf: [r.guardian] },
  'child.sick.report': { target: 'child', does: 'report their own child ill, and better again', anyOf: [r.guardian] },
  'child.pickup.set': { target: 'child', does: 'say who picks their own child up today or tomorrow', anyOf: [r.guardian] },
  'child.yearbook': {
    target: 'child',
    does: "make the year book (herinneringenboek) of their own child: its photos (traced) and schriftje, until the archive is removed",
    anyOf: [r.guardian],
  },
  'child.setMentor': {
    target: 'child',
    does: "choose a child's mentor among the staff of its group (the location's manager)",
    anyOf: [r.admin, r.managerOfChild],
  },

  // --- parents --------------------------------------------------------------------------------
  'parent.read': { target: 'parent', does: "see a parent's contact details", anyOf: [r.admin, r.self, r.staffOfParentsChild] },
  'parent.update': { target: 'parent', does: 'change their own details (mijn gegevens)', anyOf: [r.admin, r.self] },
  'parent.export': { target: 'parent', does: 'download all their data (AVG/GDPR)', anyOf: [r.admin, r.self] },

  // --- push notifications (the person's own account only; not even an administrator) -------
  'account.pushSubscribe': { target: 'account', does: 'register a browser for their own push notifications', anyOf: [r.ownAccount] },
  'account.pushSettings': {
    target: 'account',
    does: 'see and choose their own push notifications: devices, kinds of news, quiet hours',
    anyOf: [r.ownAccount],
  },
  'account.calendarFeed': {
    target: 'account',
    does: 'make, renew and revoke their own private calendar feed (agenda-koppeling), which lists their children',
    anyOf: [where(r.ownAccount, is.parentLogin)],
  },
  'pushSubscription.remove': { target: 'pushSubscription', does: 'remove a browser from their own push notifications', anyOf: [r.ownAccount] },

  // --- photos ---------------------------------------------------------------------------------
  'photo.view': {
    target: 'photo',
    does: 'see a photo (thumbnail and display image)',
    anyOf: [r.admin, r.staffOfGroup, r.managerOfLocation, where(r.parentInGroup, is.shareable)],
  },
  'photo.download': {
    target: 'photo',
    does: 'download a photo in which their own child is tagged (traced)',
    anyOf: [where(r.parentInGroup, is.shareable, is.ownChildTagged)],
  },
  'photo.tag': { target: 'photo', does: 'tag children in a photo and edit its caption', anyOf: [...orgOfGroup] },
  'photo.hide': {
    target: 'photo',
    does: 'hide or delete a photo',
    anyOf: [r.admin, r.managerOfLocation, where(r.staffOfGroup, is.uploadedBySelf)],
  },

  // --- messages -------------------------------------------------------------------------------
  'thread.read': {
    target: 'thread',
    does: 'read a conversation about a child',
    anyOf: [r.admin, where(r.guardian, is.threadChildSettled), r.staffOfGroup, r.managerOfLocation],
  },
  'thread.reply': {
    target: 'thread',
    does: 'reply in a conversation',
    anyOf: [
      where(r.guardianOfChildInGroup, is.groupOpen, is.threadChildSettled),
      where(r.adminInPerson, is.groupOpen),
      where(r.staffOfGroup, is.groupOpen),
      where(r.managerOfLocation, is.groupOpen),
    ],
  },
  'thread.assignChild': {
    target: 'thread',
    does: 'say which child a thread from before the choice is about',
    anyOf: [r.admin, r.staffOfGroup, r.managerOfLocation],
  },
  'announcement.read': {
    target: 'announcement',
    does: 'read an announcement',
    anyOf: [r.admin, r.parentInGroup, where(r.parentAtLocation, is.wholeLocation), r.staffOfGroup, r.managerOfLocation, where(r.staffAtLocation, is.wholeLocation)],
  },
  'announcement.confirm': {
    target: 'announcement',
    does: 'confirm they read an announcement that asks for it (a parent it went to)',
    anyOf: [where(r.parentInGroup, is.confirmationRequested), where(r.parentAtLocation, is.wholeLocation, is.confirmationRequested)],
  },
  'announcement.confirmations': {
    target: 'announcement',
    does: 'see who confirmed an announcement and remind the others',
    anyOf: [
      where(r.admin, is.confirmationRequested),
      where(r.managerOfLocationItself, is.confirmationRequested),
      where(r.staffOfGroup, is.confirmationRequested),
    ],
  },

  // --- oudergesprekken (core/talks) -----------------------------------------------------------
  'talk.manage': {
    target: 'group',
    does: 'publish and withdraw time slots for oudergesprekken in a group, and see its bookings',
    anyOf: orgOfGroup.map((rule) => where(rule, is.groupOpen)),
  },
  'talk.book': {
    target: 'child',
    does: "book, move or cancel an oudergesprek about their own child (placed today) in the child's group",
    anyOf: [where(r.guardian, is.placedToday)],
  },
  'talk.record': {
    target: 'group',
    does: 'record that an oudergesprek in a group took place (with a note if the organisation turns notes on)',
    anyOf: [...orgOfGroup],
  },

  // --- the schriftje --------------------------------------------------------------------------
  'diaryEntry.read': { target: 'diaryEntry', does: 'read an entry of a schriftje', anyOf: [...seesChild] },
  'diaryEntry.edit': { target: 'diaryEntry', does: 'change their own entry', anyOf: [where(r.guardian, is.ownEntry)] },

  // --- afmelden and ruilen --------------------------------------------------------------------
  'cancellation.withdraw': {
    target: 'cancellation',
    does: 'withdraw a cancelled day',
    anyOf: [r.admin, r.guardian, r.managerOfLocation],
  },
  'credit.use': {
    target: 'credit',
    does: 'use a swap credit for another day',
    anyOf: [r.admin, r.guardian, r.managerOfLocation],
  },
  'swapRequest.read': {
    target: 'swapRequest',
    does: 'see a swap request',
    anyOf: [r.admin, r.guardian, r.staffOfGroup, r.managerOfLocation],
  },
  'swapRequest.withdraw': {
    target: 'swapRequest',
    does: 'withdraw a swap request',
    anyOf: [r.admin, r.guardian, r.managerOfLocation],
  },
  'swapRequest.decide': { target: 'swapRequest', does: 'approve or refuse a swap request', anyOf: [r.admin, r.managerOfLocation] },
});

export type ActionName = keyof typeof catalogue;
export type ActionsOn<K extends TargetKind> = { [A in ActionName]: (typeof catalogue)[A]['target'] extends K ? A : never }[ActionName];
export const actionNames = Object.keys(catalogue) as ActionName[];

export interface ActionDescription {
  action: ActionName;
  target: TargetKind;
  does: string;
  /** Who may, in words: one line per rule ("administrator", "staff of the group", …). */
  who: string[];
}

/** The catalogue in words, for `portal access actions` and the README. */
export function describeCatalogue(): ActionDescription[] {
  return actionNames.map((action) => ({
    action,
    target: catalogue[action].target,
    does: catalogue[action].does,
    who: catalogue[action].anyOf.map((rule) => rule.name),
  }));
}

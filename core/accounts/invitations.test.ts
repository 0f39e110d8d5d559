import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, passwordFrom, type SmtpSink, startSmtpSink } from '../../test/smtp.ts';
import { seedMailWorld } from '../../test/mail-world.ts';
import { admin, createTestPortal, type TestPortal } from '../../test/portal.ts';
import { listAudit } from '../audit.ts';
import { Account, Session } from '../entities/account.ts';
import { ApiToken } from '../entities/api-token.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import { mailStatus, retryFailedMail, workMailQueue } from '../mail/queue-status.ts';
import { inviteParents, resetPasswordByAdmin } from './invitations.ts';
import { suspendParent, unsuspendParent } from './suspension.ts';

/**
 * Invitations end to end through the job queue and a real SMTP server: what arrives, what is
 * stored (only hashes), what happens when the SMTP server is down, and the exclusion of a parent.
 */

let smtp: SmtpSink;
let smtpPort: number;
let portal: TestPortal;
const parents = ['anna@example.nl', 'bram@example.nl', 'cor@example.nl'];

beforeAll(async () => {
  smtpPort = await freePort();
  smtp = await startSmtpSink(smtpPort);
  portal = await createTestPortal({
    'mail.smtpUrl': `smtp://127.0.0.1:${smtpPort}`,
    'mail.retryDelaySeconds': 1,
    'mail.retryLimit': 2,
    // Fast hashes keep the suite quick; the policy floor is checked by the config schema test.
    'auth.argon2MemoryKiB': 19_456,
  });
  await seedMailWorld(
    portal.em(),
    parents.map((email) => ({ email, firstName: email.split('@')[0]!, language: email.startsWith('cor') ? ('en' as const) : ('nl' as const) })),
  );
});
afterAll(async () => {
  await portal?.destroy();
  await smtp?.close();
});

const account = (email: string) => portal.em().findOneOrFail(Account, { email });

describe('parents invite', () => {
  it('mails each parent once with a working generated password; only its argon2id hash is stored', async () => {
    const report = await inviteParents(portal.em(), portal, admin, { emails: ['anna@example.nl', 'cor@example.nl'] });
    expect(report.queued.map((q) => q.email)).toEqual(['anna@example.nl', 'cor@example.nl']);
    const outcome = await workMailQueue(portal, { ids: report.queued.map((q) => q.jobId!) });
    expect(outcome).toEqual({ sent: 2, failed: [], pending: 0 });

    const [mail] = smtp.to('anna@example.nl');
    expect(smtp.to('anna@example.nl')).toHaveLength(1);
    expect(mail!.subject).toBe('Uw inloggegevens voor het Ouderportaal van De Zon');
    expect(mail!.text).toContain('Gebruikersnaam (uw e-mailadres): anna@example.nl');
    expect(mail!.text).toContain('https://ouders.dezon.nl');
    expect(mail!.html).toContain('<a href="https://ouders.dezon.nl">');
    expect(smtp.to('cor@example.nl')[0]!.subject).toBe('Your login for the De Zon parent portal');

    const password = passwordFrom(mail!);
    expect(password).toMatch(/^[A-Za-z0-9]{14}$/);
    expect(password).not.toMatch(/[0O1lI5S2Z8B]/);
    const a = await account('anna@example.nl');
    expect(a.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await portal.hasher.verify(a.passwordHash!, password)).toBe(true);
    expect(a.passwordMustChange).toBe(true);
    const days = (a.passwordExpiresAt!.getTime() - portal.clock.now().getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThanOrEqual(14);

    // Nowhere at rest: not in the job queue, not in the audit log.
    const conn = portal.em().getConnection();
    for (const sql of [
      `select data::text as t from ${QUEUE_SCHEMA}.job union all select data::text from ${QUEUE_SCHEMA}.archive`,
      `select coalesce(details::text, '') as t from audit_event`,
      `select row_to_json(account)::text as t from account`,
    ]) {
      const rows = (await conn.execute(sql)) as { t: string }[];
      expect(rows.some((r) => r.t.includes(password)), sql).toBe(false);
    }
    const events = await listAudit(portal.em(), admin, { subject: 'anna@example.nl' });
    expect(events.map((e) => e.type)).toEqual(['mail.sent', 'invitation.sent', 'mail.sending', 'invitation.requested']);
  });

  it('does not invite twice unless asked; a resend makes the old password stop working', async () => {
    const again = await inviteParents(portal.em(), portal, admin, { emails: ['anna@example.nl'] });
    expect(again.queued).toEqual([]);
    expect(again.skipped[0]!.reason).toMatch(/already invited/);
    const old = passwordFrom(smtp.to('anna@example.nl')[0]!);
    const resend = await inviteParents(portal.em(), portal, admin, { emails: ['anna@example.nl'], resend: true });
    await workMailQueue(portal, { ids: resend.queued.map((q) => q.jobId!) });
    const mails = smtp.to('anna@example.nl');
    expect(mails).toHaveLength(2);
    const fresh = passwordFrom(mails[1]!);
    const a = await account('anna@example.nl');
    expect(await portal.hasher.verify(a.passwordHash!, fresh)).toBe(true);
    expect(await portal.hasher.verify(a.passwordHash!, old)).toBe(false);
  });

  it('a resend to several at once gives each their own password and ends their sessions and app tokens', async () => {
    // The hashes of mails sent together are stored together (one transaction for those ready):
    // each account must still get its own, and lose what was logged in with the old password.
    const emails = ['anna@example.nl', 'cor@example.nl'];
    const em = portal.em();
    const now = portal.clock.now();
    const later = new Date(now.getTime() + 3_600_000);
    for (const [i, email] of emails.entries()) {
      const a = await account(email);
      em.create(Session, { idHash: `${i}`.repeat(64), account: a.id, lastSeenAt: now, expiresAt: later });
      em.create(ApiToken, { tokenHash: `t${i}`.padEnd(64, 'x'), account: a.id, name: 'telefoon', lastUsedAt: now, expiresAt: later });
    }
    await em.flush();
    await em.nativeUpdate(Account, { email: { $in: emails } }, { invitationSentAt: null });
    const before = new Map(await Promise.all(emails.map(async (e) => [e, smtp.to(e).length] as const)));
    const resend = await inviteParents(portal.em(), portal, admin, { emails, resend: true });
    expect(await workMailQueue(portal, { ids: resend.queued.map((q) => q.jobId!) })).toEqual({ sent: 2, failed: [], pending: 0 });
    for (const email of emails) {
      const mails = smtp.to(email);
      expect(mails).toHaveLength(before.get(email)! + 1);
      const a = await account(email);
      expect(await portal.hasher.verify(a.passwordHash!, passwordFrom(mails.at(-1)!))).toBe(true);
      expect(a.invitationSentAt).toEqual(portal.clock.now());
      expect(await portal.em().count(Session, { account: a.id })).toBe(0);
      expect(await portal.em().count(ApiToken, { account: a.id, revokedAt: null })).toBe(0);
    }
  });

  it('queues nothing when one named parent does not exist (one transaction)', async () => {
    const before = await portal.em().getConnection().execute(`select count(*)::int as n from ${QUEUE_SCHEMA}.job`);
    await expect(inviteParents(portal.em(), portal, admin, { emails: ['bram@example.nl', 'nobody@example.nl'] })).rejects.toThrow(
      /nobody@example\.nl/,
    );
    const after = await portal.em().getConnection().execute(`select count(*)::int as n from ${QUEUE_SCHEMA}.job`);
    expect(after[0]!.n).toBe(before[0]!.n);
    expect((await portal.em().findOne(Account, { email: 'bram@example.nl' }))?.invitedAt ?? null).toBeNull();
  });
});

describe('SMTP outage', () => {
  it('loses nothing: the mail waits, leaves no working secret, and arrives once when SMTP is back', async () => {
    await smtp.close(); // SMTP down
    const report = await inviteParents(portal.em(), portal, admin, { emails: ['bram@example.nl'] });
    const first = await workMailQueue(portal, { ids: report.queued.map((q) => q.jobId!) });
    expect(first.sent).toBe(0);
    expect(first.failed[0]!.error).toMatch(/ECONNREFUSED|connect/i);
    // The password generated for the failed attempt was revoked.
    expect((await account('bram@example.nl')).passwordHash).toBeNull();
    const status = await mailStatus(portal.em(), portal, admin);
    expect(status.retrying).toBe(1);
    expect(status.retries[0]!.email).toBe('bram@example.nl');

    smtp = await startSmtpSink(smtpPort); // SMTP back
    const deadline = Date.now() + 20_000;
    while (smtp.to('bram@example.nl').length === 0 && Date.now() < deadline) {
      await workMailQueue(portal, { timeoutMs: 3000 });
      await new Promise((r) => setTimeout(r, 300));
    }
    const mails = smtp.to('bram@example.nl');
    expect(mails).toHaveLength(1);
    const a = await account('bram@example.nl');
    expect(await portal.hasher.verify(a.passwordHash!, passwordFrom(mails[0]!))).toBe(true);
  });

  it('dead-letters after the last retry; `mail retry` sends it again with a fresh password', async () => {
    await smtp.close();
    const report = await resetPasswordByAdmin(portal.em(), portal, admin, 'cor@example.nl', 'parent');
    const deadline = Date.now() + 20_000;
    let status = await mailStatus(portal.em(), portal, admin);
    while (status.failed === 0 && Date.now() < deadline) {
      await workMailQueue(portal, { ids: report.queued.map((q) => q.jobId!), timeoutMs: 2000 });
      await new Promise((r) => setTimeout(r, 500));
      status = await mailStatus(portal.em(), portal, admin);
    }
    expect(status.failed).toBe(1);
    expect(status.failures[0]).toMatchObject({ email: 'cor@example.nl', kind: 'new_password' });
    expect((await account('cor@example.nl')).passwordHash).toBeNull();

    smtp = await startSmtpSink(smtpPort);
    expect((await retryFailedMail(portal.em(), portal, admin)).requeued).toBe(1);
    await workMailQueue(portal);
    expect((await mailStatus(portal.em(), portal, admin)).failed).toBe(0);
    const mails = smtp.to('cor@example.nl');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Your new password for the De Zon parent portal');
    expect(await portal.hasher.verify((await account('cor@example.nl')).passwordHash!, passwordFrom(mails[0]!))).toBe(true);
  });
});

describe('suspension', () => {
  it('ends every session at once, blocks invitations, and can be lifted', async () => {
    const a = await account('anna@example.nl');
    const em = portal.em();
    const now = portal.clock.now();
    for (const id of ['a'.repeat(64), 'b'.repeat(64)]) {
      em.create(Session, { idHash: id, account: a.id, lastSeenAt: now, expiresAt: new Date(now.getTime() + 3_600_000) });
    }
    await em.flush();
    const s = await suspendParent(portal.em(), admin, 'ANNA@example.nl', 'foto van andere kinderen op Facebook gezet');
    expect(s.sessionsEnded).toBe(2);
    expect(await portal.em().count(Session, { account: a.id })).toBe(0);
    const invite = await inviteParents(portal.em(), portal, admin, { emails: ['anna@example.nl'], resend: true });
    expect(invite.skipped).toEqual([{ email: 'anna@example.nl', reason: 'suspended' }]);
    const events = await listAudit(portal.em(), admin, { type: 'account.' });
    expect(events[0]).toMatchObject({ type: 'account.suspended', subject: 'anna@example.nl' });
    expect(events[0]!.details).toMatchObject({ reason: 'foto van andere kinderen op Facebook gezet' });

    await unsuspendParent(portal.em(), admin, 'anna@example.nl');
    expect((await account('anna@example.nl')).suspendedAt).toBeNull();
  });
});

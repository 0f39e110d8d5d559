import type { Language } from '../entities/organisation.ts';
import { type ComposeInput, type Composed, publicBaseUrl } from '../mail/account-mail.ts';
import { composeNoticeMail } from '../profile/email-change.ts';

/**
 * The mail to the owner of an address that was locked after too many failed logins from
 * several places together (core/auth/throttle.ts, core/auth/login.ts). Sent once per lock; it
 * carries no secret, only the way back in: a new password through "Wachtwoord vergeten?" lifts
 * the lock at once.
 */

/** The forgot-password page (http/routes/password.ts FORGOT_PATH; core does not import http). */
const FORGOT_PATH = '/wachtwoord-vergeten';

type Texts = Parameters<typeof composeNoticeMail>[1][Language];

const lockedTexts: Record<Language, Texts> = {
  nl: {
    subject: 'Inloggen op het ouderportaal van {organisation} is tijdelijk geblokkeerd',
    greeting: 'Beste {firstName},',
    lines: [
      'Er is in korte tijd vaak geprobeerd om met uw e-mailadres in te loggen op het ouderportaal van {organisation}, vanaf verschillende plaatsen en met een verkeerd wachtwoord. Om uw account te beschermen kan daarom tot een uur lang niemand met uw e-mailadres inloggen, ook niet met het juiste wachtwoord. Wilt u meteen weer inloggen? Kies dan via deze link een nieuw wachtwoord:',
      'Heeft u dit niet zelf gedaan? Dan probeert iemand anders met uw e-mailadres in te loggen. Kies voor de zekerheid een nieuw wachtwoord dat u nergens anders gebruikt.',
      'Vragen? Neem contact op met {contact}.',
    ],
    button: 'Nieuw wachtwoord kiezen',
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: 'Logging in to the parent portal of {organisation} is blocked for a while',
    greeting: 'Dear {firstName},',
    lines: [
      'Within a short time there were many attempts to log in to the parent portal of {organisation} with your e-mail address, from several places and with a wrong password. To protect your account, nobody can log in with your e-mail address for up to an hour, not even with the right password. Do you want to log in straight away? Then choose a new password with this link:',
      'Was this not you? Then someone else is trying to log in with your e-mail address. To be safe, choose a new password that you do not use anywhere else.',
      'Questions? Please contact {contact}.',
    ],
    button: 'Choose a new password',
    closing: 'Kind regards,\n{organisation}',
  },
};

export async function composeLoginLocked(input: ComposeInput): Promise<Composed> {
  return composeNoticeMail(input, lockedTexts, { link: `${publicBaseUrl(input.ctx, input.organisation.publicUrl)}${FORGOT_PATH}` });
}

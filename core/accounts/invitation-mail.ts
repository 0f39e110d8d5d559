/**
 * The invitation (and "new password") mail: username, generated password, where to log in on
 * the web and in the app. Plain text first (it is what many mail programs show and what a
 * screen reader reads best), and a simple HTML part with every value escaped.
 */

export interface InvitationMailInput {
  lang: 'nl' | 'en';
  kind: 'invitation' | 'new_password';
  firstName: string;
  organisation: string;
  portalUrl: string;
  username: string;
  password: string;
  expiresAt: Date;
  helpdeskEmail: string | null;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Made once: a formatter is costly to build, and an invitation run formats thousands of dates.
const dayFormat = {
  nl: new Intl.DateTimeFormat('nl-NL', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Amsterdam' }),
  en: new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Amsterdam' }),
};

function formatDate(date: Date, lang: 'nl' | 'en'): string {
  return dayFormat[lang].format(date);
}

interface Texts {
  subject: string;
  greeting: string;
  intro: string;
  credentials: string;
  usernameLabel: string;
  passwordLabel: string;
  firstLogin: string;
  expiry: string;
  /** This mail's password is the only one that works: an earlier mail's (or one chosen since) no longer does. */
  replaces: string;
  appTitle: string;
  app: string;
  appUrlLabel: string;
  help: string;
  closing: string;
}

function texts(i: InvitationMailInput): Texts {
  const until = formatDate(i.expiresAt, i.lang);
  if (i.lang === 'en') {
    return {
      subject:
        i.kind === 'invitation' ? `Your login for the ${i.organisation} parent portal` : `Your new password for the ${i.organisation} parent portal`,
      greeting: `Dear ${i.firstName},`,
      intro:
        i.kind === 'invitation'
          ? `In the ${i.organisation} parent portal you can see photos from your child's group, read and write in the diary, and exchange messages with the group. This is your login.`
          : 'At your request we have set a new password for your account. Your previous password no longer works.',
      credentials: `Log in at ${i.portalUrl} with:`,
      usernameLabel: 'Username (your e-mail address)',
      passwordLabel: 'Password',
      firstLogin: 'When you log in for the first time, you choose a password of your own.',
      expiry: `This password works once and until ${until}. After that, ask for a new one through the helpdesk.`,
      replaces:
        'This mail replaces any earlier mail with login details from us: only the password in this mail works now, and any password you had before no longer does.',
      appTitle: 'Using the app',
      app: 'In the app, enter three things: the organisation URL, your username and the password.',
      appUrlLabel: 'Organisation URL',
      help: i.helpdeskEmail
        ? `Trouble logging in? Use the "Need help?" link on the login page, or write to ${i.helpdeskEmail}.`
        : 'Trouble logging in? Use the "Need help?" link on the login page.',
      closing: `Kind regards,\n${i.organisation}`,
    };
  }
  return {
    subject:
      i.kind === 'invitation'
        ? `Uw inloggegevens voor het Ouderportaal van ${i.organisation}`
        : `Uw nieuwe wachtwoord voor het Ouderportaal van ${i.organisation}`,
    greeting: `Beste ${i.firstName},`,
    intro:
      i.kind === 'invitation'
        ? `In het Ouderportaal van ${i.organisation} ziet u foto's uit de groep van uw kind, leest en schrijft u in het schriftje en wisselt u berichten uit met de groep. Hieronder staan uw inloggegevens.`
        : 'Op uw verzoek hebben wij een nieuw wachtwoord voor u ingesteld. Uw vorige wachtwoord werkt niet meer.',
    credentials: `U logt in op ${i.portalUrl} met:`,
    usernameLabel: 'Gebruikersnaam (uw e-mailadres)',
    passwordLabel: 'Wachtwoord',
    firstLogin: 'Als u voor het eerst inlogt, kiest u een eigen wachtwoord.',
    expiry: `Dit wachtwoord werkt één keer en tot en met ${until}. Daarna kunt u via de helpdesk een nieuw wachtwoord aanvragen.`,
    replaces:
      'Deze e-mail vervangt eerdere e-mails met inloggegevens van ons: alleen het wachtwoord in deze e-mail werkt nu, een wachtwoord dat u eerder had werkt niet meer.',
    appTitle: 'Inloggen in de app',
    app: 'In de app vult u drie gegevens in: de URL van de organisatie, uw gebruikersnaam en het wachtwoord.',
    appUrlLabel: 'URL organisatie',
    help: i.helpdeskEmail
      ? `Lukt het inloggen niet? Kies "Hulp nodig?" op de inlogpagina of mail naar ${i.helpdeskEmail}.`
      : 'Lukt het inloggen niet? Kies "Hulp nodig?" op de inlogpagina.',
    closing: `Met vriendelijke groet,\n${i.organisation}`,
  };
}

export function composeInvitationMail(i: InvitationMailInput): { subject: string; text: string; html: string } {
  const t = texts(i);
  const text = [
    t.greeting,
    '',
    t.intro,
    '',
    t.credentials,
    `  ${t.usernameLabel}: ${i.username}`,
    `  ${t.passwordLabel}: ${i.password}`,
    '',
    t.firstLogin,
    t.expiry,
    t.replaces,
    '',
    `${t.appTitle}`,
    t.app,
    `  ${t.appUrlLabel}: ${i.portalUrl}`,
    `  ${t.usernameLabel}: ${i.username}`,
    `  ${t.passwordLabel}: ${i.password}`,
    '',
    t.help,
    '',
    t.closing,
    '',
  ].join('\n');
  const e = escapeHtml;
  const row = (label: string, value: string) =>
    `<tr><th style="text-align:left;padding:4px 12px 4px 0">${e(label)}</th><td style="font-family:monospace;font-size:16px">${e(value)}</td></tr>`;
  const html = `<!doctype html>
<html lang="${i.lang}"><head><meta charset="utf-8"><title>${e(t.subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328;max-width:560px">
<p>${e(t.greeting)}</p>
<p>${e(t.intro)}</p>
<p>${t.credentials
    .split(i.portalUrl)
    .map(e)
    .join(`<a href="${e(i.portalUrl)}">${e(i.portalUrl)}</a>`)}</p>
<table role="presentation">${row(t.usernameLabel, i.username)}${row(t.passwordLabel, i.password)}</table>
<p>${e(t.firstLogin)} ${e(t.expiry)}</p>
<p>${e(t.replaces)}</p>
<h2 style="font-size:1.1em">${e(t.appTitle)}</h2>
<p>${e(t.app)}</p>
<table role="presentation">${row(t.appUrlLabel, i.portalUrl)}${row(t.usernameLabel, i.username)}${row(t.passwordLabel, i.password)}</table>
<p>${e(t.help)}</p>
<p>${e(t.closing).replace('\n', '<br>')}</p>
</body></html>
`;
  return { subject: t.subject, text, html };
}

/**
 * Dutch texts: the portal's first language, in the organisation's formal voice ("u").
 * Keys are flat and dotted by page or area; `{name}` marks a parameter. Templates never
 * contain sentences of their own, so this file (and en.ts beside it) is the whole wording.
 */
export const nl = {
  'app.name': 'Ouderportaal',
  'layout.skipToContent': 'Direct naar de inhoud',
  'layout.languageNav': 'Taal',
  /** The language's own name, shown in that language on the switch link of the other one. */
  'lang.self': 'Nederlands',

  'login.title': 'Inloggen',
  'login.intro': 'Log in met het e-mailadres waarop u de uitnodiging van {organisation} heeft ontvangen.',
  'login.email': 'E-mailadres',
  'login.password': 'Wachtwoord',
  'login.submit': 'Inloggen',
  'login.forgot': 'Wachtwoord vergeten?',
  'login.help': 'Hulp nodig?',
  'login.failed': 'E-mailadres of wachtwoord klopt niet.',

  'error.backHome': 'Naar de startpagina',
  'error.reference': 'Foutcode: {requestId}',
  'error.400.title': 'Verzoek niet begrepen',
  'error.400.text': 'Wij konden dit verzoek niet verwerken. Ga terug en probeer het opnieuw.',
  'error.401.title': 'Niet ingelogd',
  'error.401.text': 'Log in om deze pagina te bekijken.',
  'error.403.title': 'Geen toegang',
  'error.403.text': 'U heeft geen toegang tot deze pagina.',
  'error.csrf.title': 'Formulier verlopen',
  'error.csrf.text':
    'Dit formulier is verlopen of kwam niet van deze website. Laad de pagina opnieuw en probeer het nog eens.',
  'error.404.title': 'Pagina niet gevonden',
  'error.404.text': 'Deze pagina bestaat niet (meer). Controleer het adres of ga naar de startpagina.',
  'error.409.title': 'Wijziging niet gelukt',
  'error.409.text':
    'Dit is intussen al gewijzigd of bestaat al. Laad de pagina opnieuw en probeer het nog eens.',
  'error.413.title': 'Te groot',
  'error.413.text': 'Wat u verstuurde is te groot. Probeer het met een kleiner bestand.',
  'error.422.title': 'Controleer uw gegevens',
  'error.422.text': 'Niet alle gegevens zijn goed ingevuld. Ga terug en controleer wat u invulde.',
  'error.429.title': 'Even geduld',
  'error.429.text': 'U heeft het te vaak achter elkaar geprobeerd. Wacht een paar minuten en probeer het dan opnieuw.',
  'error.500.title': 'Er ging iets mis',
  'error.500.text':
    'Er ging bij ons iets mis. Probeer het later opnieuw. Lukt het dan nog niet, neem dan contact op met de helpdesk en noem de foutcode hieronder.',
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof nl;

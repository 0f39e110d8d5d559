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

  'layout.mainNav': 'Hoofdmenu',
  'layout.logout': 'Uitloggen',

  'nav.home': 'Home',
  'nav.today': 'Vandaag',
  'nav.photos': "Foto's",
  'nav.diary': 'Schriftje',
  'nav.messages': 'Berichten',
  'nav.more': 'Meer',
  'nav.location': 'Locatie',

  'flash.logged_out': 'U bent uitgelogd.',
  'flash.session_ended': 'U was een tijd niet actief en bent daarom uitgelogd. Log opnieuw in om verder te gaan.',
  'flash.password_changed': 'Uw wachtwoord is gewijzigd.',
  'flash.password_reset': 'Uw nieuwe wachtwoord is ingesteld. Log hieronder in met uw nieuwe wachtwoord.',
  'flash.reset_requested':
    'Als dit e-mailadres bij ons bekend is, ontvangt u binnen een paar minuten een e-mail met een link om een nieuw wachtwoord te kiezen. De link is {validity} geldig. Geen e-mail gekregen? Kijk ook bij de ongewenste e-mail.',
  'flash.second_factor_disabled': 'Tweestapsverificatie staat uit.',

  'login.title': 'Inloggen',
  'login.intro': 'Log in met het e-mailadres waarop u de uitnodiging van {organisation} heeft ontvangen.',
  'login.email': 'E-mailadres',
  'login.password': 'Wachtwoord',
  'login.submit': 'Inloggen',
  'login.forgot': 'Wachtwoord vergeten?',
  'login.help': 'Hulp nodig?',
  'login.failed': 'E-mailadres of wachtwoord klopt niet.',
  'login.throttled':
    'Er is te vaak achter elkaar een verkeerd wachtwoord ingevuld. Wacht een kwartier en probeer het dan opnieuw, of kies "Wachtwoord vergeten?".',
  'login.suspended': 'U kunt niet meer inloggen: uw toegang tot het ouderportaal is stopgezet. Neem contact op met {organisation} als u vragen heeft.',

  'password.title': 'Wachtwoord wijzigen',
  'password.forcedTitle': 'Kies uw eigen wachtwoord',
  'password.forcedIntro':
    'U bent ingelogd met het wachtwoord uit de e-mail. Kies nu een eigen wachtwoord; daarna kunt u verder.',
  'password.rules': 'Minstens 12 tekens. Een zin van een paar woorden is sterk en goed te onthouden.',
  'password.current': 'Huidig wachtwoord',
  'password.new': 'Nieuw wachtwoord',
  'password.confirm': 'Herhaal het nieuwe wachtwoord',
  'password.submit': 'Wachtwoord opslaan',
  'password.back': 'Terug naar mijn gegevens',
  'password.problem.required': 'Vul dit veld in.',
  'password.problem.too_short': 'Kies een wachtwoord van minstens 12 tekens.',
  'password.problem.too_long': 'Kies een wachtwoord van hoogstens 128 tekens.',
  'password.problem.too_common': 'Dit wachtwoord wordt veel gebruikt en is makkelijk te raden. Kies iets anders.',
  'password.problem.contains_context':
    'Bouw uw wachtwoord niet op uit de naam van de organisatie, uw naam of uw e-mailadres.',
  'password.problem.wrong_password': 'Dit is niet uw huidige wachtwoord.',
  'password.problem.same_as_old': 'Kies een ander wachtwoord dan het huidige.',
  'password.problem.throttled': 'U heeft het te vaak geprobeerd. Wacht een kwartier en probeer het dan opnieuw.',
  'password.problem.mismatch': 'De twee wachtwoorden zijn niet hetzelfde.',

  'forgot.title': 'Wachtwoord vergeten',
  'forgot.intro':
    'Vul het e-mailadres in waarmee u inlogt. U krijgt dan een e-mail met een link om een nieuw wachtwoord te kiezen.',
  'forgot.email': 'E-mailadres',
  'forgot.submit': 'Stuur mij een link',
  'forgot.back': 'Terug naar inloggen',
  'forgot.problem.required': 'Vul uw e-mailadres in.',
  'forgot.problem.invalid': 'Dit is geen geldig e-mailadres. Controleer het en probeer het opnieuw.',

  'reset.title': 'Nieuw wachtwoord kiezen',
  'reset.intro': 'Kies een nieuw wachtwoord voor {email}.',
  'reset.invalidTitle': 'Deze link werkt niet meer',
  'reset.invalidText':
    'Een link om een nieuw wachtwoord te kiezen werkt één keer en is {validity} geldig. Vraag een nieuwe link aan.',
  'reset.again': 'Nieuwe link aanvragen',

  'home.title': 'Home',
  'home.staffTitle': 'Vandaag',
  'home.welcome': 'Welkom, {name}',
  'home.parentIntro':
    "Hier ziet u straks per kind het schriftje van vandaag, de nieuwste foto's en uw berichten.",
  'home.staffIntro':
    "Hier ziet u straks de kinderen van uw groep van vandaag, met snelle links naar het schriftje en foto's uploaden.",
  'home.profile': 'Mijn gegevens',

  'more.title': 'Meer',
  'more.location': 'Mijn vestiging',
  'more.profile': 'Mijn gegevens',
  'more.help': 'Help',

  'profile.title': 'Mijn gegevens',
  'profile.name': 'Naam',
  'profile.email': 'E-mailadres',
  'profile.security': 'Inloggen en beveiliging',
  'profile.changePassword': 'Wachtwoord wijzigen',
  'profile.secondFactorOn': 'Tweestapsverificatie (staat aan)',
  'profile.secondFactorOff': 'Tweestapsverificatie (staat uit)',

  'soon.text': 'Dit onderdeel komt binnenkort.',
  'soon.back': 'Naar de startpagina',

  'help.title': 'Help',
  'help.text': 'Het helpformulier komt binnenkort. Heeft u nu een vraag over het ouderportaal? Mail dan de helpdesk van {organisation}:',
  'help.noAddress': 'Heeft u een vraag over het ouderportaal? Neem dan contact op met uw vestiging.',
  'help.back': 'Terug',

  'secondFactor.title': 'Tweestapsverificatie',
  'secondFactor.checkTitle': 'Code invullen',
  'secondFactor.checkIntro':
    'Vul de code van 6 cijfers in uit uw authenticator-app. Telefoon niet bij de hand? Vul dan een van uw herstelcodes in.',
  'secondFactor.code': 'Code',
  'secondFactor.verify': 'Doorgaan',
  'secondFactor.enrolIntro':
    'Met tweestapsverificatie vraagt het portaal na uw wachtwoord ook een code uit een app op uw telefoon, zoals Google Authenticator, Microsoft Authenticator of FreeOTP.',
  'secondFactor.requiredIntro': 'Voor medewerkers is tweestapsverificatie verplicht. Stel het nu in; daarna kunt u verder.',
  'secondFactor.step1': 'Open uw authenticator-app en voeg een account toe met deze sleutel:',
  'secondFactor.key': 'Sleutel',
  'secondFactor.openApp': 'Op deze telefoon? Open de sleutel direct in de app',
  'secondFactor.step2': 'Vul daarna de code van 6 cijfers in die de app toont.',
  'secondFactor.confirm': 'Instellen',
  'secondFactor.codesTitle': 'Uw herstelcodes',
  'secondFactor.codesIntro':
    'Bewaar deze codes op een veilige plek, bijvoorbeeld op papier. Elke code werkt één keer, voor als u uw telefoon kwijt bent. U ziet ze alleen nu.',
  'secondFactor.enabled': 'Tweestapsverificatie staat aan.',
  'secondFactor.continue': 'Verder',
  'secondFactor.codesLeft': 'Ongebruikte herstelcodes: {count}.',
  'secondFactor.newCodes': 'Nieuwe herstelcodes maken',
  'secondFactor.disableTitle': 'Uitschakelen',
  'secondFactor.disableIntro': 'Vul uw wachtwoord in om tweestapsverificatie uit te schakelen.',
  'secondFactor.password': 'Wachtwoord',
  'secondFactor.disable': 'Uitschakelen',
  'secondFactor.requiredNote': 'Voor medewerkers is tweestapsverificatie verplicht; u kunt het niet uitschakelen.',
  'secondFactor.problem.required': 'Vul de code in.',
  'secondFactor.problem.wrong_code': 'Deze code klopt niet. Vul de code in die de app nu toont.',
  'secondFactor.problem.throttled': 'U heeft het te vaak geprobeerd. Wacht een kwartier en probeer het dan opnieuw.',
  'secondFactor.problem.wrong_password': 'Dit is niet uw wachtwoord.',

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
  'photos.title': "Foto's",
  'photos.empty': "Nog geen foto's. Zodra de medewerkers van de groep foto's delen, ziet u ze hier, de nieuwste bovenaan.",
  'photos.staffSoon': "De pagina's om foto's te uploaden en kinderen te taggen komen binnenkort. Ouders zien hier het album van hun groep.",
  'photos.today': 'Vandaag',
  'photos.yesterday': 'Gisteren',
  'photos.thumbAlt': 'Foto van {day}',
  'photos.more': 'Meer laden',
  'photo.title': 'Foto',
  'photo.alt': 'Foto van {day}',
  'photo.taken': 'Gemaakt op {day} om {time}',
  'photo.download': 'Foto downloaden',
  'photo.notDownloadable': 'Alleen ouders van een kind dat op deze foto staat, kunnen hem downloaden.',
  'photo.rulesFirst': "Lees voor uw eerste download de spelregels voor foto's.",
  'photo.rulesConfirm': 'Ik ken de spelregels',
  'photo.rulesMissing': 'Vink aan dat u de spelregels kent; daarna kunt u de foto downloaden.',
  'photo.back': "Terug naar de foto's",
  'rules.link': "Spelregels voor foto's",
  'rules.title': "Spelregels voor foto's",
  'rules.intro': "Wij delen foto's zodat u kunt zien hoe de dag van uw kind verloopt. Daarbij horen een paar afspraken:",
  'rules.ownUse': "U downloadt foto's alleen voor eigen gebruik, bijvoorbeeld voor uw fotoalbum thuis.",
  'rules.noSocial':
    'Staan er andere kinderen of medewerkers op de foto? Zet hem dan niet op sociale media en stuur hem niet door.',
  'rules.traced': 'Elke download krijgt een eigen code, zodat wij kunnen nagaan van welke download een gedeelde foto komt.',
  'rules.misuse': "Wie zich niet aan deze afspraken houdt, kan worden uitgesloten van de foto's in het ouderportaal.",
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof nl;

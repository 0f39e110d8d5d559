/** The FAQ's texts (formal "u"); keys start with "faq.". The questions themselves are Markdown files. */
export const nl = {
  'faq.title': 'Veelgestelde vragen',
  'faq.sectionHeading': 'Veelgestelde vragen: afmelden en ruilen',
  'faq.intro': 'Antwoorden over afmelden, ruilen, feestdagen en ziekte. De termijnen zijn die van uw vestiging.',
  'faq.searchLabel': 'Zoeken in de veelgestelde vragen',
  'faq.searchButton': 'Zoeken',
  'faq.results.one': '1 antwoord met "{q}".',
  'faq.results.many': '{count} antwoorden met "{q}".',
  'faq.empty': 'Geen antwoorden gevonden met "{q}". Probeert u een ander woord.',
  'faq.none': 'Er zijn nog geen veelgestelde vragen.',
  'faq.showAll': 'Alle vragen tonen',
  'faq.organisation': 'Voor alle vestigingen',
  'faq.askHelpdesk': 'Staat uw vraag er niet bij? Stel hem aan de helpdesk.',
} as const;

export const en: Record<keyof typeof nl, string> = {
  'faq.title': 'Frequently asked questions',
  'faq.sectionHeading': 'Frequently asked questions: cancelling and swapping',
  'faq.intro': 'Answers about cancelling, swapping, public holidays and illness. The deadlines are those of your location.',
  'faq.searchLabel': 'Search the frequently asked questions',
  'faq.searchButton': 'Search',
  'faq.results.one': '1 answer with "{q}".',
  'faq.results.many': '{count} answers with "{q}".',
  'faq.empty': 'No answers found with "{q}". Please try another word.',
  'faq.none': 'There are no frequently asked questions yet.',
  'faq.showAll': 'Show all questions',
  'faq.organisation': 'For all locations',
  'faq.askHelpdesk': 'Is your question not listed? Ask the helpdesk.',
};

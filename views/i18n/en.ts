import type { MessageKey } from './nl.ts';

/**
 * English texts. Typed against the Dutch catalogue, so a key added in nl.ts and forgotten
 * here (or a stray key only here) fails the type check instead of showing up on a page.
 */
export const en: Record<MessageKey, string> = {
  'app.name': 'Parent portal',
  'layout.skipToContent': 'Skip to content',
  'layout.languageNav': 'Language',
  'lang.self': 'English',

  'login.title': 'Log in',
  'login.intro': 'Log in with the e-mail address at which you received the invitation from {organisation}.',
  'login.email': 'E-mail address',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'login.forgot': 'Forgot your password?',
  'login.help': 'Need help?',
  'login.failed': 'The e-mail address or password is incorrect.',

  'error.backHome': 'Go to the start page',
  'error.reference': 'Error code: {requestId}',
  'error.400.title': 'Request not understood',
  'error.400.text': 'We could not process this request. Please go back and try again.',
  'error.401.title': 'Not logged in',
  'error.401.text': 'Please log in to see this page.',
  'error.403.title': 'No access',
  'error.403.text': 'You do not have access to this page.',
  'error.csrf.title': 'Form expired',
  'error.csrf.text':
    'This form has expired or did not come from this website. Please reload the page and try again.',
  'error.404.title': 'Page not found',
  'error.404.text': 'This page does not exist (any more). Please check the address or go to the start page.',
  'error.409.title': 'Change not saved',
  'error.409.text': 'This has been changed in the meantime or already exists. Please reload the page and try again.',
  'error.413.title': 'Too large',
  'error.413.text': 'What you sent is too large. Please try again with a smaller file.',
  'error.422.title': 'Please check your details',
  'error.422.text': 'Not all details were filled in correctly. Please go back and check what you entered.',
  'error.429.title': 'Please wait',
  'error.429.text': 'You have tried too many times in a row. Please wait a few minutes and try again.',
  'error.500.title': 'Something went wrong',
  'error.500.text':
    'Something went wrong on our side. Please try again later. If it still does not work, contact the helpdesk and mention the error code below.',
};

import { describe, expect, it } from 'vitest';
import { messageHtml } from './format.ts';

describe('messageHtml', () => {
  it('escapes everything, so markup in a message is shown as text', () => {
    const html = messageHtml('<script>alert("x")</script> & <img src=x onerror=alert(1)>');
    expect(html).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<(script|img)/i);
  });

  it('keeps line breaks', () => {
    expect(messageHtml('regel een\r\nregel twee\nregel drie')).toBe('regel een<br>\nregel twee<br>\nregel drie');
  });

  it('makes http(s) addresses clickable, without the sentence punctuation after them', () => {
    expect(messageHtml('Zie https://example.nl/rooster?week=48&dag=2.')).toBe(
      'Zie <a href="https://example.nl/rooster?week=48&amp;dag=2" rel="noopener noreferrer nofollow" target="_blank">https://example.nl/rooster?week=48&amp;dag=2</a>.',
    );
    expect(messageHtml('(http://example.nl/a_(b))')).toContain('href="http://example.nl/a_(b)"');
    expect(messageHtml('(http://example.nl/a_(b))')).toMatch(/<\/a>\)$/);
  });

  it('links nothing but http and https, and an address cannot break out of its attribute', () => {
    for (const text of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'ftp://example.nl/x', 'www.example.nl']) {
      expect(messageHtml(text), text).not.toContain('<a ');
    }
    const html = messageHtml('https://example.nl/"onmouseover="alert(1)');
    expect(html).toContain('href="https://example.nl/"');
    expect(html).not.toContain('"onmouseover');
    expect(messageHtml("https://example.nl/'><script>x</script>")).not.toContain('<script>');
  });
});

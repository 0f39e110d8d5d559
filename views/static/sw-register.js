// Registers the service worker (/sw.js): it keeps the shell (styles, scripts, icons, the
// offline page) for a phone without signal, and nothing else. A separate file because the CSP
// allows no inline script; without JavaScript the portal works the same, only not offline.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
    // No worker (private mode, an old browser): the pages work as before.
  });
}

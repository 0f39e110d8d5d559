/**
 * The service worker's source. It pre-caches the shell (the URLs given, all content-hashed
 * or harmless: styles, scripts, icons, the offline page) and answers those from the cache.
 * Everything else goes to the network and is never stored: pages show a child's data and
 * photos, and a shared or lost phone must not keep them. A navigation that fails (no signal)
 * gets the offline page instead of the browser's error. The cache name carries a version made
 * from the URLs, so a new release installs a new worker and the old cache is removed.
 * It also shows Web Push notifications (a title and a link, see core/push) and opens the link
 * when one is tapped.
 */
export function serviceWorkerSource(version: string, shell: readonly string[], offlinePath: string): string {
  return `'use strict';
// Ouderportaal service worker, version ${version}: the shell only, never a page with personal data.
const CACHE = 'portal-shell-${version}';
const SHELL = ${JSON.stringify(shell)};
const OFFLINE = ${JSON.stringify(offlinePath)};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === 'navigate') {
    // Network only; the cache is asked only when there is no network at all.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE).then((hit) => hit || Response.error())));
  }
  // Anything else: not answered here, so the browser fetches it as if there were no worker.
});

// Web Push (core/push): the payload is only a title and a link into this portal.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === 'string' ? data.title : 'Ouderportaal';
  const link = typeof data.url === 'string' ? new URL(data.url, self.location.origin) : new URL('/', self.location.origin);
  // Only a link into the portal itself is opened.
  const url = link.origin === self.location.origin ? link.pathname : '/';
  event.waitUntil(self.registration.showNotification(title, { data: { url }, tag: url }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || '/';
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin && 'focus' in w) return w.navigate(url).then((c) => (c || w).focus());
      }
      return self.clients.openWindow(url);
    }),
  );
});
`;
}

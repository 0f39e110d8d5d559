// Web Push on Mijn gegevens: shows the "on this device" button only where the browser can push,
// subscribes with the portal's VAPID key and registers the subscription with a CSRF-protected
// POST. Without JavaScript (or without push support) the page explains instead.
(() => {
  const box = document.querySelector('[data-push]');
  if (!box) return;
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return;
  const on = box.querySelector('[data-push-on]');
  const off = box.querySelector('[data-push-off]');
  const status = box.querySelector('[data-push-status]');
  // The token of the card's own form (the page renders it once per form).
  const field = box.parentElement?.querySelector('input[name="_csrf"]');
  const csrf = field ? field.value : '';
  const key = box.getAttribute('data-key') || '';
  const say = (name) => {
    if (status) status.textContent = box.getAttribute(`data-text-${name}`) || '';
  };
  const post = (url, body) =>
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
    });
  const toBytes = (b64) => {
    const s = atob((b64 + '='.repeat((4 - (b64.length % 4)) % 4)).replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  };
  // A short, recognisable name for the device list ("Android", "iPhone", "Windows").
  const device = () => {
    const ua = navigator.userAgent;
    for (const name of ['iPhone', 'iPad', 'Android', 'Windows', 'Mac OS', 'Linux']) if (ua.includes(name)) return name.replace(' OS', '');
    return '';
  };
  box.hidden = false;
  const unsupported = document.querySelector('[data-push-unsupported]');
  if (unsupported) unsupported.hidden = true;
  navigator.serviceWorker.ready.then(async (registration) => {
    const current = await registration.pushManager.getSubscription();
    on.hidden = Boolean(current);
    off.hidden = !current;
    on.addEventListener('click', async () => {
      on.disabled = true;
      try {
        if ((await Notification.requestPermission()) !== 'granted') return say('denied');
        const sub = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: toBytes(key) });
        const json = sub.toJSON();
        const res = await post(box.getAttribute('data-subscribe') || '', { endpoint: json.endpoint, keys: json.keys, device: device() });
        if (!res.ok) throw new Error(String(res.status));
        window.location.reload();
      } catch {
        say('failed');
      } finally {
        on.disabled = false;
      }
    });
    off.addEventListener('click', async () => {
      off.disabled = true;
      const sub = await registration.pushManager.getSubscription();
      if (sub) {
        await post(box.getAttribute('data-unsubscribe') || '', { endpoint: sub.endpoint }).catch(() => {});
        await sub.unsubscribe();
      }
      window.location.reload();
    });
  });
})();

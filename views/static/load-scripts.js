// Adds the page's scripts (htmx, the service worker registration, the page's own script) once
// the page has loaded: its data-scripts lists their URLs, in order. On a slow phone every
// request in flight shares the line, so htmx (~13 KB) fetched beside the first photos would
// make them arrive later; everything those scripts do is an enhancement of links and forms that
// work without them. A separate file because the CSP allows no inline script. <html
// data-scripts> says "loading", then "loaded" when the last one has run (the browser tests wait
// for it).
(() => {
  const loader = document.currentScript;
  const urls = (loader?.dataset.scripts || '').split(' ').filter(Boolean);
  const add = () => {
    document.documentElement.dataset.scripts = 'loading';
    let pending = urls.length;
    const done = () => {
      pending--;
      if (pending === 0) document.documentElement.dataset.scripts = 'loaded';
    };
    for (const url of urls) {
      const script = document.createElement('script');
      script.src = url;
      // Run in the listed order (htmx before anything that may use it), not as each arrives.
      script.async = false;
      script.addEventListener('load', done);
      script.addEventListener('error', done);
      document.head.append(script);
    }
    if (urls.length === 0) document.documentElement.dataset.scripts = 'loaded';
  };
  if (document.readyState === 'complete') add();
  else window.addEventListener('load', add, { once: true });
})();

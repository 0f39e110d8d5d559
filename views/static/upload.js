// Photo upload with per-file progress. Without this script the upload form posts all files at
// once and the server answers with a new page; with it each file goes in its own request, so
// staff on a tablet see every photo's progress and its thumbnail as soon as it is processed.
// htmx 4 sends with fetch, which reports no upload progress, hence XMLHttpRequest here.
// When every file is in, a link leads on to the batch tagging screen for just these photos.
(() => {
  const form = document.querySelector('form[data-upload]');
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const input = form.querySelector('input[type=file]');
  const list = document.getElementById(form.dataset.upload);
  const labels = { failed: form.dataset.failed || 'Upload failed', batch: form.dataset.batchLabel || 'Tag these photos' };
  const uploaded = [];

  function item(name) {
    const li = document.createElement('li');
    li.className = 'upload-item';
    const label = document.createElement('span');
    label.textContent = name;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    li.append(label, bar);
    list.prepend(li);
    document.getElementById(form.dataset.empty)?.remove(); // "no photos yet" is no longer true
    return { li, bar };
  }

  function send(file, shown) {
    return new Promise((resolve) => {
      const data = new FormData();
      // The token first: the server checks it before it accepts any file.
      for (const name of ['_csrf', 'groep', 'bijschrift']) {
        const field = form.elements.namedItem(name);
        if (field) data.append(name, field.value);
      }
      data.append(input.name, file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('HX-Request', 'true');
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) shown.bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.onload = () => {
        const html = xhr.responseText;
        const holder = document.createElement('ul');
        holder.innerHTML = html; // our own server's escaped fragment (same origin, CSP in force)
        const rows = [...holder.children];
        for (const row of rows) if (row.id.startsWith('foto-')) uploaded.push(row.id.slice(5));
        if (rows.length) {
          shown.li.replaceWith(...rows);
          for (const row of rows) window.htmx?.process(row);
        } else {
          shown.li.textContent = `${file.name}: ${labels.failed}`;
        }
        resolve();
      };
      xhr.onerror = () => {
        shown.li.textContent = `${file.name}: ${labels.failed}`;
        resolve();
      };
      xhr.send(data);
    });
  }

  form.addEventListener('submit', async (event) => {
    if (!input.files || input.files.length === 0) return; // let the browser show the form error
    event.preventDefault();
    const files = [...input.files];
    const shown = files.map((f) => item(f.name));
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    // One at a time: a phone on a slow line finishes the first photo sooner.
    for (let i = 0; i < files.length; i++) await send(files[i], shown[i]);
    if (button) button.disabled = false;
    form.reset();
    if (uploaded.length === 0) return;
    const group = form.elements.namedItem('groep')?.value;
    const href = `/fotos/taggen?groep=${encodeURIComponent(group)}&fotos=${uploaded.join(',')}`;
    uploaded.length = 0;
    // The way on, above the new rows and focused (refusals, if any, stay in view below it):
    // without this script the server's redirect lands on the same screen.
    const li = document.createElement('li');
    li.className = 'upload-next';
    const link = document.createElement('a');
    link.className = 'button';
    link.href = href;
    link.textContent = labels.batch;
    li.append(link);
    list.prepend(li);
    link.focus();
  });
})();

// The batch tagging screen: each chip (a checkbox) saves at once, one request at a time per
// photo, and only that photo's status is replaced, so keyboard focus stays on the chip. Without
// this script the same checkboxes are posted together by the form's buttons.
(() => {
  const form = document.querySelector('form[data-batch-tagging]');
  if (!form || !window.fetch) return;
  const token = form.elements.namedItem('_csrf')?.value || '';
  const queue = new Map();

  function save(set) {
    const id = set.dataset.photo;
    const body = new URLSearchParams();
    body.append('_csrf', token);
    for (const box of set.querySelectorAll('input[type=checkbox]:checked')) {
      body.append(box.name.startsWith('geenKind-') ? 'geenKind' : 'kind', box.value);
    }
    const send = () =>
      fetch(`/fotos/${id}/chips`, {
        method: 'POST',
        body,
        credentials: 'same-origin',
        headers: { 'HX-Request': 'true', 'X-CSRF-Token': token },
      })
        .then((res) => res.text())
        .then((html) => {
          const holder = document.createElement('div');
          holder.innerHTML = html; // our own server's escaped fragment (same origin, CSP in force)
          const fresh = holder.querySelector('.batch-status');
          const old = document.getElementById(`status-${id}`);
          if (fresh && old) old.replaceWith(fresh);
        })
        .catch(() => {}); // offline: the form's buttons still post everything
    const next = (queue.get(id) || Promise.resolve()).then(send);
    queue.set(id, next);
  }

  form.addEventListener('change', (event) => {
    const box = event.target;
    const set = box.closest?.('fieldset[data-photo]');
    if (!set) return;
    // A child ticked means someone is recognisable: "nobody recognisable" no longer holds.
    if (box.checked && box.name.startsWith('kind-')) {
      const none = set.querySelector('input[name^="geenKind-"]');
      if (none) none.checked = false;
    }
    save(set);
  });
})();

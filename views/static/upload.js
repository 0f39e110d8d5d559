// Photo upload with per-file progress. Without this script the upload form posts all files at
// once and the server answers with a new page; with it each file goes in its own request, so
// staff on a tablet see every photo's progress and its thumbnail as soon as it is processed.
// htmx 4 sends with fetch, which reports no upload progress, hence XMLHttpRequest here.
(() => {
  const form = document.querySelector('form[data-upload]');
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const input = form.querySelector('input[type=file]');
  const list = document.getElementById(form.dataset.upload);
  const labels = { failed: form.dataset.failed || 'Upload failed' };

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
  });
})();

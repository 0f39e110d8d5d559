// The photo page: swipe left or right, or press the arrow keys, to go to the next or previous
// photo. It only follows the page's own links (rel=prev / rel=next), which work without it.
(() => {
  const link = (which) => document.querySelector(`a[data-photo-nav="${which}"]`);
  const go = (which) => {
    const a = link(which);
    if (a) window.location.assign(a.href);
  };
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    // Arrow keys in a form field move the caret, not the photo.
    if (event.target instanceof Element && event.target.closest('input, textarea, select, [contenteditable]')) return;
    if (event.key === 'ArrowLeft') go('prev');
    else if (event.key === 'ArrowRight') go('next');
  });
  const stage = document.querySelector('.photo-stage');
  if (!stage) return;
  let start = null;
  stage.addEventListener('touchstart', (event) => {
    start = event.touches.length === 1 ? { x: event.touches[0].clientX, y: event.touches[0].clientY } : null;
  }, { passive: true });
  stage.addEventListener('touchend', (event) => {
    if (!start) return;
    const touch = event.changedTouches[0];
    const dx = touch.clientX - start.x;
    const dy = touch.clientY - start.y;
    start = null;
    // A clear sideways swipe only: a scroll or a pinch is left alone.
    if (Math.abs(dx) < 50 || Math.abs(dx) < 2 * Math.abs(dy)) return;
    go(dx < 0 ? 'next' : 'prev');
  }, { passive: true });
})();

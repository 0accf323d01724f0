/* The steward queues (match reviews, change approvals, data-quality exceptions): keyboard moves
   (j/k, Enter opens, x selects), click a row to open it, the selection and its bulk bar.
   A bulk button with data-key="M" is pressed by Shift+M; the table may be swapped by HTMX. */
(function () {
  function rows() { return Array.from(document.querySelectorAll('#queue tbody tr[data-url]')); }
  var cursor = -1;
  function mark(i) {
    var all = rows(); if (!all.length) return;
    cursor = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (r, j) { r.classList.toggle('cursor', j === cursor); });
    all[cursor].scrollIntoView({block: 'nearest'});
  }
  function refresh() {
    var boxes = Array.from(document.querySelectorAll('#queue input[name=ids]'));
    var n = boxes.filter(function (b) { return b.checked; }).length;
    boxes.forEach(function (b) { b.closest('tr').classList.toggle('selected', b.checked); });
    var bar = document.querySelector('#queue .bulkbar'); if (!bar) return;
    bar.classList.toggle('active', n > 0);
    bar.querySelector('.sel').textContent = n ? n + ' selected' : 'None selected';
    bar.querySelectorAll('button').forEach(function (b) { b.disabled = n === 0; });
  }
  document.addEventListener('change', function (e) {
    if (e.target.matches('#queue input[name=ids]')) refresh();
    if (e.target.matches('#queue input.all')) {
      document.querySelectorAll('#queue input[name=ids]').forEach(function (b) { b.checked = e.target.checked; });
      refresh();
    }
  });
  document.addEventListener('click', function (e) {
    var tr = e.target.closest('#queue tbody tr[data-url]');
    if (!tr || e.target.closest('a, input, label, button')) return;
    window.location = tr.dataset.url;
  });
  document.body.addEventListener('htmx:afterSwap', function () { cursor = -1; refresh(); });
  document.addEventListener('keydown', function (e) {
    if (e.target.closest('input, select, textarea') || e.metaKey || e.ctrlKey || e.altKey) return;
    var all = rows();
    if (e.key === 'j') { mark(cursor + 1); e.preventDefault(); }
    else if (e.key === 'k') { mark(cursor - 1); e.preventDefault(); }
    else if (e.key === 'x' && all[cursor]) { var b = all[cursor].querySelector('input[name=ids]'); if (b) { b.checked = !b.checked; refresh(); } }
    else if (e.key === 'Enter' && all[cursor]) { window.location = all[cursor].dataset.url; }
    else if (/^[A-Z]$/.test(e.key)) {
      var button = document.querySelector('#queue button[data-key="' + e.key + '"]');
      if (button && !button.disabled) button.click();
    }
  });
  refresh();
})();

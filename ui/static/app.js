// Runs once when the clause panel mounts (gr.HTML js_on_load). One capture-phase listener on the document
// serves every chip (chat messages, the citation row, calculator and matching results, the panel itself).
window.__paOpenClause = (id) => { window.__paScrollPending = true; trigger('click', {clause: id}); };
if (!window.__paDelegate) {
  window.__paDelegate = true;
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (!t || !t.closest) return;
    const back = t.closest('[data-pa-back]');
    if (back) {
      ev.preventDefault();
      const top = document.getElementById('pa-tabs') || document.body;
      top.scrollIntoView({behavior: 'auto', block: 'start'});
      return;
    }
    const el = t.closest('[data-clause], a[href^="#pa-clause="]');
    if (!el) return;
    let id = el.getAttribute('data-clause');
    if (!id) {
      try { id = decodeURIComponent((el.getAttribute('href') || '').slice('#pa-clause='.length)); }
      catch (e) { id = ''; }
    }
    if (!id) return;
    ev.preventDefault();
    ev.stopPropagation();
    window.__paOpenClause(id);
  }, true);
}
watch('value', () => {
  if (!window.__paScrollPending) return;
  window.__paScrollPending = false;
  const panel = document.getElementById('pa-clause-col') || document.getElementById('pa-clause-panel') || element;
  const r = panel.getBoundingClientRect();
  if (window.matchMedia('(max-width: 900px)').matches || r.top < 0 || r.top > window.innerHeight - 80) {
    panel.scrollIntoView({behavior: 'auto', block: 'start'});
  }
});

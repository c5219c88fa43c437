// A sale printed: the Print button, and the paper switch (an A4 sheet or an 80 mm receipt),
// which swaps the named @page the sheet is laid out on without asking the server again (the
// page may have been opened from the counter, with no address of its own to reload).

import './account.js';

const root = document.getElementById('printout');

function choose(paper) {
  root.dataset.paper = paper;
  for (const button of root.querySelectorAll('button[data-paper]')) {
    button.setAttribute('aria-pressed', String(button.dataset.paper === paper));
  }
}

for (const button of root.querySelectorAll('button[data-paper]')) {
  button.addEventListener('click', () => choose(button.dataset.paper));
}
root.querySelector('[data-action="print"]').addEventListener('click', () => window.print());

// The console: three read-only pages over the GraphQL API, chosen by the
// URL's fragment (#/review, #/account, #/segments) so that each is a link.
import { apiKey, setApiKey, showStatus } from './api.js';
import { review } from './review.js';
import { account } from './account.js';
import { segments } from './segments.js';

const PAGES = { review, account, segments };

async function show() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0] || 'review';
  const page = PAGES[name] ?? review;
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const main = document.getElementById('main');
  showStatus('');
  main.replaceChildren();
  document.title = `Accord · ${name[0].toUpperCase()}${name.slice(1)}`;
  try {
    await page(main);
  } catch (error) {
    showStatus(error.message);
  }
}

const keyInput = document.getElementById('api-key');
keyInput.value = apiKey();
document.getElementById('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  show();
});
window.addEventListener('hashchange', () => {
  show();
  document.getElementById('main').focus();
});
show();

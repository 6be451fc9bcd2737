// The console's only way to the data: the public GraphQL API, with the key
// typed into the header (kept for this tab only), or none on a demo server.
const KEY = 'accord.apiKey';

export function apiKey() {
  return sessionStorage.getItem(KEY) || '';
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** Runs a GraphQL operation and gives its data; rejects when there is none. */
export async function graphql(query, variables = {}) {
  return (await answer(query, variables)).data;
}

/** Like `graphql`, with the errors of a partial answer too. */
export async function answer(query, variables = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`the server answered ${response.status} without a GraphQL body`);
  }
  if (body.errors?.length && !body.data) throw new Error(body.errors.map((e) => e.message).join('; '));
  // Partial answers (fields this key's role may not read) keep their data;
  // each distinct reason is said once.
  if (body.errors?.length) showStatus([...new Set(body.errors.map((e) => e.message))].join('; '));
  return { data: body.data, errors: body.errors ?? [] };
}

export function showStatus(message) {
  const status = document.getElementById('status');
  status.textContent = message || '';
  status.hidden = !message;
}

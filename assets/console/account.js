// Account: find one account and see what sales needs before a call.
// Contacts come back masked or not according to the key's role.
import { answer, graphql } from './api.js';
import { bar, card, definition, el, loading, money, number, sampleSize } from './ui.js';

// A contact field the server withheld from this key's role (FORBIDDEN at
// that path) is said to be hidden, not shown as empty.
const HIDDEN = 'hidden for your role';

// Asked apart from the rest, so that withheld fields cannot take the
// account's other figures with them.
const CONTACTS = `query Contacts($id: ID!) { account(id: $id) { customers(first: 20) { nodes { name email phone } } } }`;

const LIST = `{ accounts(first: 500) { nodes { id name externalId region } } }`;

const DETAIL = `query Account($id: ID!) {
  account(id: $id) {
    name externalId region kind tier owner
    health { score formula components { name weight score basis } }
    orderStats { daysSinceLastOrder last30Days { orders value { amountMinor } } last90Days { orders value { amountMinor } } last365Days { orders value { amountMinor } } }
    nps { nps ciLow ciHigh n }
    touchpointsByTeam(perTeam: 3) { team touchpoints { occurredAt channel kind } }
    customers(first: 20) { totalCount nodes { externalId } }
    openLeads(first: 20) { totalCount nodes { externalId stage sourceTeam createdAt amount { amountMinor } } }
  }
}`;

export async function account(main) {
  const { accounts } = await graphql(LIST);
  const search = el('input', { id: 'account-search', type: 'search', placeholder: 'Name or id, e.g. A0001', autocomplete: 'off' });
  const results = el('ul', { class: 'list results', id: 'account-results', 'aria-label': 'Matching accounts' });
  const detail = el('div', { class: 'grid', 'aria-live': 'polite' });
  const find = () => {
    const text = search.value.trim().toLowerCase();
    const found = text ? accounts.nodes.filter((a) => a.name.toLowerCase().includes(text) || a.externalId.toLowerCase() === text) : [];
    results.replaceChildren(
      ...found.slice(0, 10).map((a) => el('li', {}, el('button', { type: 'button', onclick: () => open(a.id, detail) }, `${a.name} (${a.externalId}, ${a.region})`))),
    );
    if (text && !found.length) results.replaceChildren(el('li', { class: 'muted' }, 'No account matches.'));
  };
  search.addEventListener('input', find);
  main.append(
    el('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); results.querySelector('button')?.click(); } },
      el('label', { for: 'account-search' }, `Search ${accounts.nodes.length} accounts`, search)),
    results,
    detail,
  );
}

async function open(id, detail) {
  loading(detail);
  const { account } = await graphql(DETAIL, { id });
  const { data, errors } = await answer(CONTACTS, { id });
  const people = data?.account?.customers.nodes ?? [];
  const withheld = new Set(errors.filter((e) => e.extensions?.code === 'FORBIDDEN').map((e) => `${e.path?.[3]}:${e.path?.at(-1)}`));
  const contact = (index, field) => el('td', { class: field }, people[index]?.[field] ?? (withheld.has(`${index}:${field}`) ? HIDDEN : '–'));
  const stats = account.orderStats;
  const windows = [['30 days', stats.last30Days], ['90 days', stats.last90Days], ['365 days', stats.last365Days]];
  detail.replaceChildren(
    card(
      account.name,
      el('p', { class: 'muted' }, `${account.externalId} · ${account.region} · ${account.kind} · ${account.tier} · owner ${account.owner}`),
      el('p', {}, el('span', { class: 'figure', id: 'health-score' }, number(account.health.score, 0)), ' health'),
      account.health.components.map((c) => bar(`${c.name} (×${c.weight})`, c.score / 100, { text: `${number(c.score, 0)} · ${c.basis}` })),
      definition({ metric: 'health', version: 1, formula: account.health.formula, parameters: [] }),
    ),
    card(
      'Orders',
      el('p', {}, stats.daysSinceLastOrder === null ? 'No orders yet.' : `Last order ${stats.daysSinceLastOrder} days ago.`),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Window'), el('th', { scope: 'col' }, 'Orders'), el('th', { scope: 'col' }, 'Value'))),
        el('tbody', {}, windows.map(([name, w]) => el('tr', {}, el('th', { scope: 'row' }, name), el('td', {}, w.orders), el('td', {}, money(w.value.amountMinor)))))),
      el('p', { class: 'muted' }, `NPS ${number(account.nps.nps)} (${sampleSize(account.nps.n)})`),
    ),
    card(
      'Journey by team',
      account.touchpointsByTeam.map((t) => el('div', {}, el('h3', {}, t.team), el('ul', { class: 'list' }, t.touchpoints.map((p) => el('li', {}, `${p.occurredAt.slice(0, 10)} · ${p.channel} · ${p.kind.toLowerCase()}`))))),
    ),
    card(
      `Contacts (${account.customers.totalCount})`,
      el('div', { class: 'table-wrap' }, el('table', { id: 'contacts' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Id'), el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'Email'), el('th', { scope: 'col' }, 'Phone'))),
        el('tbody', {}, account.customers.nodes.map((c, i) => el('tr', {}, el('td', {}, c.externalId), contact(i, 'name'), contact(i, 'email'), contact(i, 'phone')))))),
      el('p', { class: 'muted' }, 'Contact details are shown as your key’s role may see them.'),
    ),
    card(
      `Open leads (${account.openLeads.totalCount})`,
      account.openLeads.nodes.length
        ? el('ul', { class: 'list' }, account.openLeads.nodes.map((l) => el('li', {}, `${l.externalId} · ${l.stage} · from ${l.sourceTeam.toLowerCase()} · ${l.createdAt.slice(0, 10)}${l.amount ? ` · ${money(l.amount.amountMinor)}` : ''}`)))
        : el('p', { class: 'muted' }, 'None.'),
    ),
  );
}

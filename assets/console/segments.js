// Segments: the audiences marketing keeps, their size over time, and a
// rule builder that previews an audience before it is saved.
import { apiKey, graphql, showStatus } from './api.js';
import { card, el, number, timeChart } from './ui.js';

const LIST = `{ segments(first: 100) { nodes { id name team size refreshedAt membersCsvPath(channel: EMAIL) sizeHistory { at size } } } }`;
const PREVIEW = `mutation Preview($rule: SegmentRuleInput!) { previewSegment(rule: $rule, sample: 10) { size sample { externalId name email region } } }`;
const CREATE = `mutation Create($input: CreateSegmentInput!) { createSegment(input: $input) { id } }`;
const REFRESH = `mutation Refresh($id: ID!) { refreshSegment(id: $id) { size joined left } }`;

const TRAITS = ['region', 'country', 'acquisitionChannel'];
const METRICS = ['ORDER_COUNT', 'TOTAL_SPEND', 'DAYS_SINCE_LAST_ORDER', 'NPS', 'RFM_R', 'RFM_F', 'RFM_M', 'TOUCHPOINT_COUNT'];
const OPERATORS = ['EQ', 'NEQ', 'GT', 'GTE', 'LT', 'LTE', 'IN', 'NOT_IN', 'CONTAINS', 'EXISTS'];

export async function segments(main) {
  const list = el('div');
  main.append(el('div', { class: 'grid' }, card('Segments', list), builder(() => draw(list))));
  await draw(list);
}

async function draw(list) {
  const { segments } = await graphql(LIST);
  if (!segments.nodes.length) {
    list.replaceChildren(el('p', { class: 'muted' }, 'No segments yet: build one with the rule builder.'));
    return;
  }
  const chartHolder = el('div', { id: 'segment-history' });
  const rows = segments.nodes.map((segment) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, el('button', { type: 'button', class: 'secondary', onclick: () => history(segment, chartHolder) }, segment.name)),
      el('td', {}, segment.team),
      el('td', {}, number(segment.size, 0)),
      el('td', {}, segment.refreshedAt ? segment.refreshedAt.slice(0, 16).replace('T', ' ') : 'never'),
      el('td', {},
        el('button', { type: 'button', onclick: () => refresh(segment, list) }, 'Refresh'), ' ',
        el('button', { type: 'button', class: 'secondary', onclick: () => exportCsv(segment) }, 'Export CSV')),
    ),
  );
  list.replaceChildren(
    el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'Team', 'Size', 'Refreshed', 'Actions'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))),
    chartHolder,
  );
  history(segments.nodes[0], chartHolder);
}

function history(segment, holder) {
  const points = segment.sizeHistory;
  holder.replaceChildren(
    el('h3', {}, `Size of ${segment.name} over time`),
    points.length
      ? timeChart(points.map((p) => p.at.slice(0, 10)), [{ label: 'Members', values: points.map((p) => p.size) }], { label: `Size history of ${segment.name}`, height: 200 })
      : el('p', { class: 'muted' }, 'Not refreshed yet: refresh it to start its history.'),
  );
}

async function refresh(segment, list) {
  const { refreshSegment } = await graphql(REFRESH, { id: segment.id });
  showStatus(`${segment.name}: ${refreshSegment.size} members (${refreshSegment.joined} joined, ${refreshSegment.left} left)`);
  await draw(list);
}

/** Downloads the members with the same key as every other request. */
async function exportCsv(segment) {
  const headers = apiKey() ? { authorization: `Bearer ${apiKey()}` } : {};
  const response = await fetch(segment.membersCsvPath, { headers });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    showStatus(body.errors?.[0]?.message ?? `export refused (${response.status})`);
    return;
  }
  const link = el('a', { href: URL.createObjectURL(await response.blob()), download: `${segment.name}.csv` });
  link.click();
  URL.revokeObjectURL(link.href);
}

function choice(id, label, options, value) {
  return el('label', { for: id, class: 'field' }, label, el('select', { id }, options.map((o) => el('option', { value: o, selected: o === value }, o))));
}

let rowCount = 0;

function conditionRow() {
  const n = rowCount++;
  const kind = choice(`kind-${n}`, 'Condition', ['trait', 'metric'], 'trait');
  const fields = el('span', { class: 'rule-row' });
  const row = el('fieldset', { class: 'rule-row condition' }, el('legend', { class: 'visually-hidden' }, `Condition ${n + 1}`), kind, fields);
  const render = () => {
    if (kind.querySelector('select').value === 'trait') {
      fields.replaceChildren(
        el('label', { for: `field-${n}`, class: 'field' }, 'Field', el('input', { id: `field-${n}`, name: 'field', list: 'trait-fields', value: 'region' })),
        choice(`op-${n}`, 'Operator', OPERATORS, 'EQ'),
        el('label', { for: `value-${n}`, class: 'field' }, 'Value', el('input', { id: `value-${n}`, name: 'value', value: 'UK' })),
      );
    } else {
      fields.replaceChildren(
        choice(`metric-${n}`, 'Metric', METRICS, 'ORDER_COUNT'),
        choice(`op-${n}`, 'Operator', OPERATORS.slice(0, 6), 'GTE'),
        el('label', { for: `value-${n}`, class: 'field' }, 'Value', el('input', { id: `value-${n}`, name: 'value', type: 'number', step: 'any', value: '2' })),
        el('label', { for: `window-${n}`, class: 'field' }, 'Window (days)', el('input', { id: `window-${n}`, name: 'window', type: 'number', min: '1', value: '365' })),
      );
    }
  };
  kind.addEventListener('change', render);
  render();
  row.toRule = () => {
    const value = (name) => row.querySelector(`[id^="${name}-"]`)?.value;
    if (kind.querySelector('select').value === 'trait') {
      const text = value('value');
      let parsed = text;
      try { parsed = JSON.parse(text); } catch { /* a plain string */ }
      const trait = { field: value('field'), operator: value('op') };
      if (trait.operator !== 'EXISTS') trait.value = trait.operator === 'IN' || trait.operator === 'NOT_IN' ? String(text).split(',').map((s) => s.trim()) : parsed;
      return { trait };
    }
    const metric = { metric: value('metric'), operator: value('op'), value: Number(value('value')) };
    if (value('window')) metric.windowDays = Number(value('window'));
    return { metric };
  };
  return row;
}

function builder(saved) {
  const rows = el('div', {}, conditionRow());
  const result = el('div', { id: 'preview', 'aria-live': 'polite' });
  const rule = () => {
    const conditions = [...rows.querySelectorAll('.condition')].map((row) => row.toRule());
    return conditions.length === 1 ? conditions[0] : { all: conditions };
  };
  const preview = async () => {
    const { previewSegment } = await graphql(PREVIEW, { rule: rule() });
    result.replaceChildren(
      el('p', {}, el('span', { class: 'figure', id: 'preview-size' }, number(previewSegment.size, 0)), ' customers match'),
      el('ul', { class: 'list' }, previewSegment.sample.map((c) => el('li', {}, `${c.externalId} · ${c.name ?? ''} · ${c.email ?? '–'} · ${c.region}`))),
    );
  };
  const name = el('input', { id: 'segment-name', required: true, placeholder: 'UK repeat buyers' });
  const save = async (event) => {
    event.preventDefault();
    await graphql(CREATE, { input: { name: name.value, team: 'MARKETING', rule: rule() } });
    showStatus(`Saved ${name.value}; refresh it to store its members.`);
    await saved();
  };
  return card(
    'Build a segment',
    el('p', { class: 'muted' }, 'Customers matching every condition. Trait fields: region, country, acquisitionChannel or traits.<key>; lists for IN are comma-separated.'),
    el('datalist', { id: 'trait-fields' }, TRAITS.map((t) => el('option', { value: t }))),
    rows,
    el('p', {},
      el('button', { type: 'button', class: 'secondary', onclick: () => rows.append(conditionRow()) }, 'Add condition'), ' ',
      el('button', { type: 'button', id: 'preview-button', onclick: () => preview().catch((e) => showStatus(e.message)) }, 'Preview')),
    result,
    el('form', { class: 'filters', onsubmit: (e) => save(e).catch((error) => showStatus(error.message)) },
      el('label', { for: 'segment-name' }, 'Name', name), el('button', { type: 'submit' }, 'Save segment')),
  );
}

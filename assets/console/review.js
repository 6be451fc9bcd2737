// Review: the business at a glance, with each figure's uncertainty and
// definition. Revenue, orders, won revenue and NPS come from
// `insights.series` (one query, every period with its 95% interval and the
// previous period beside it); awareness from the brand funnel's own series;
// retention, attribution and the revenue cycle are per window.
import { graphql } from './api.js';
import { bar, card, COLOURS, definition, el, heat, interval, loading, money, number, percent, population, sampleSize, timeChart } from './ui.js';

const DEF = 'definition { metric version formula parameters { name value } }';
const RATE = 'rate ciLow ciHigh';

// The series charted, in order, with how their values read.
const SERIES = [
  { metric: 'REVENUE', title: 'Revenue', money: true },
  { metric: 'ORDERS', title: 'Orders' },
  { metric: 'WON_REVENUE', title: 'Won revenue', money: true },
  { metric: 'NPS', title: 'Net Promoter Score' },
];

const QUERY = `query Review($filter: InsightFilter, $period: Period!) {
  insights(filter: $filter) {
    series(metrics: [${SERIES.map((s) => s.metric).join(', ')}], period: $period, compareTo: PREVIOUS_PERIOD) {
      metric
      points { periodStart value ciLow ciHigh n suppressed compareTo { previous pValue } }
      total { value ciLow ciHigh n suppressed }
      ${DEF}
    }
    retention(period: $period, maxOffset: 6) {
      cohorts { cohortStart size offsets { offset retained { ${RATE} } } }
      ${DEF}
    }
    brandFunnel(period: $period, compareTo: PREVIOUS_PERIOD) {
      ownBrand
      overall { brand n awareness { ${RATE} } consideration { ${RATE} } preference { ${RATE} } purchaseIntentTop2 { ${RATE} } }
      series { periodStart funnel { brand awareness { ${RATE} } } }
      ${DEF}
    }
    attribution(conversion: ORDER) {
      conversions totalValueMinor
      models { model byTeam { key creditMinor conversions } }
      ${DEF}
    }
    revenueCycle {
      totalWonRevenueMinor marketingShareOfWonRevenue
      bySourceTeam { sourceTeam leads wonCount wonRevenueMinor shareOfWonRevenue conversions { from to rate { ${RATE} } } }
      ${DEF}
    }
  }
}`;

const CHOICES = `{ accounts(first: 500) { nodes { region } } segments(first: 100) { nodes { id name } } }`;

const WINDOWS = { '12': 'Last 12 months', '6': 'Last 6 months', '24': 'Last 24 months' };
const PERIODS = ['MONTH', 'QUARTER', 'WEEK'];

function windowFilter(months) {
  const to = new Date();
  const from = new Date(to);
  from.setUTCMonth(from.getUTCMonth() - Number(months));
  const day = (date) => date.toISOString().slice(0, 10);
  return { from: day(from), to: day(to) };
}

function select(id, label, options, value) {
  return el(
    'label',
    { for: id },
    label,
    el('select', { id }, options.map(([v, text]) => el('option', { value: v, selected: v === value }, text))),
  );
}

export async function review(main) {
  const choices = await graphql(CHOICES);
  const regions = [...new Set(choices.accounts.nodes.map((a) => a.region))].sort();
  const form = el(
    'form',
    { class: 'filters', 'aria-label': 'Filters' },
    select('f-window', 'Window', Object.entries(WINDOWS), '12'),
    select('f-period', 'Period', PERIODS.map((p) => [p, p[0] + p.slice(1).toLowerCase()]), 'MONTH'),
    select('f-region', 'Region', [['', 'All regions'], ...regions.map((r) => [r, r])], ''),
    select('f-segment', 'Segment', [['', 'All customers'], ...choices.segments.nodes.map((s) => [s.id, s.name])], ''),
  );
  const body = el('div', { class: 'grid', 'aria-live': 'polite' });
  main.append(el('h2', { class: 'visually-hidden' }, 'Review'), form, body);
  const load = async () => {
    const value = (id) => form.querySelector(`#${id}`).value;
    const filter = windowFilter(value('f-window'));
    if (value('f-region')) filter.region = value('f-region');
    if (value('f-segment')) filter.segment = value('f-segment');
    loading(body);
    const data = await graphql(QUERY, { filter, period: value('f-period') });
    body.replaceChildren(...render(data.insights));
  };
  form.addEventListener('change', () => load().catch((error) => body.replaceChildren(el('p', { role: 'alert' }, error.message))));
  await load();
}

function render(insights) {
  const series = SERIES.map((shown) => [shown, insights.series.find((s) => s.metric === shown.metric)]).filter(([, s]) => s);
  return [
    ...series.map(([shown, s]) => seriesCard(shown, s)),
    funnelTrend(insights.brandFunnel),
    retention(insights.retention),
    funnel(insights.brandFunnel),
    attribution(insights.attribution),
    cycle(insights.revenueCycle),
  ];
}

/** One metric of `insights.series`: its window total, and every period with its interval band and the previous period dashed. */
function seriesCard({ metric, title, money: isMoney }, series) {
  // Money comes in minor units; charted in major units. Values are read as numbers whatever their GraphQL type.
  const scale = (value) => (value === null || value === undefined ? null : isMoney ? Number(value) / 100 : Number(value));
  const format = isMoney ? (value) => money(value) : (value) => number(value);
  const points = series.points;
  const hasData = points.some((p) => p.value !== null && Number(p.n ?? 0) > 0);
  const chart = hasData
    ? timeChart(
        points.map((p) => p.periodStart),
        [
          { label: title, values: points.map((p) => scale(p.value)) },
          { label: 'Previous period', values: points.map((p) => scale(p.compareTo?.previous)), dash: true },
        ],
        { band: { low: points.map((p) => scale(p.ciLow)), high: points.map((p) => scale(p.ciHigh)), label: '95% CI' }, label: `${title} per period with its 95% interval and the previous period` },
      )
    : el('p', { class: 'muted' }, 'Nothing in this window.');
  const total = series.total;
  return card(
    title,
    el(
      'p',
      { 'data-metric': metric },
      el('span', { class: 'figure' }, total.suppressed ? '–' : format(total.value)),
      ' ',
      el('span', { class: 'muted' }, [interval(total.ciLow, total.ciHigh, format), sampleSize(total.n)].filter(Boolean).join(' · ')),
    ),
    legend([[title, COLOURS[0]], ['Previous period (dashed)', COLOURS[1]], ['95% interval', '#56b4e9']]),
    chart,
    definition(series.definition),
  );
}

function funnelTrend(funnel) {
  // The series has a point per brand and period: chart the own brand's.
  const series = funnel.series.filter((p) => p.funnel.brand === funnel.ownBrand);
  const awareness = series.map((p) => p.funnel.awareness);
  const chart = series.length
    ? timeChart(
        series.map((p) => p.periodStart),
        [{ label: 'Awareness %', values: awareness.map((r) => (r.rate === null ? null : r.rate * 100)) }],
        { band: { low: awareness.map((r) => (r.ciLow === null ? null : r.ciLow * 100)), high: awareness.map((r) => (r.ciHigh === null ? null : r.ciHigh * 100)), label: '95% CI' }, label: `${funnel.ownBrand} awareness per period with its 95% interval` },
      )
    : el('p', { class: 'muted' }, 'No brand surveys in this window.');
  return card(`Awareness of ${funnel.ownBrand}`, legend([['Awareness', COLOURS[0]], ['95% interval', '#56b4e9']]), chart, definition(funnel.definition));
}

function retention(retention) {
  const offsets = Math.max(0, ...retention.cohorts.map((c) => c.offsets.length));
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Cohort'), el('th', { scope: 'col' }, 'Size'), Array.from({ length: offsets }, (_, i) => el('th', { scope: 'col' }, `+${i}`)));
  const rows = retention.cohorts.map((cohort) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, cohort.cohortStart),
      el('td', {}, population(cohort.size)),
      cohort.offsets.map((point) => {
        const shade = heat(point.retained.rate);
        return el('td', { class: `heat${shade.light ? ' light' : ''}`, style: `background:${shade.background}`, title: interval(point.retained.ciLow, point.retained.ciHigh, percent) }, percent(point.retained.rate));
      }),
    ),
  );
  return card(
    'Cohort retention',
    el('p', { class: 'muted' }, 'Share of each cohort ordering again, by periods since its first order. Hover a cell for its 95% interval.'),
    el('div', { class: 'table-wrap' }, el('table', { class: 'heatmap' }, el('thead', {}, head), el('tbody', {}, rows))),
    definition(retention.definition),
  );
}

function funnel(funnel) {
  const stages = ['awareness', 'consideration', 'preference', 'purchaseIntentTop2'];
  const names = { awareness: 'Awareness', consideration: 'Consideration', preference: 'Preference', purchaseIntentTop2: 'Purchase intent' };
  const brands = funnel.overall.map((brand, index) =>
    el(
      'div',
      {},
      el('h3', {}, `${brand.brand}${brand.brand === funnel.ownBrand ? ' (own brand)' : ''} · ${sampleSize(brand.n)}`),
      stages.filter((stage) => brand[stage]).map((stage) => bar(names[stage], brand[stage].rate, { low: brand[stage].ciLow, high: brand[stage].ciHigh, colour: COLOURS[index % COLOURS.length] })),
    ),
  );
  return card('Brand funnel', el('p', { class: 'muted' }, 'Bars show the share of respondents; the black line is the 95% interval.'), brands, definition(funnel.definition));
}

function attribution(attribution) {
  const models = attribution.models.map((m) => m.model);
  const holder = el('div');
  const picker = el('select', { id: 'attribution-model' }, models.map((m) => el('option', { value: m }, m.replaceAll('_', ' ').toLowerCase())));
  const draw = () => {
    const model = attribution.models.find((m) => m.model === picker.value) ?? attribution.models[0];
    const total = model.byTeam.reduce((sum, bucket) => sum + Number(bucket.creditMinor), 0) || 1;
    holder.replaceChildren(...model.byTeam.map((bucket, index) => bar(bucket.key, Number(bucket.creditMinor) / total, { text: `${money(bucket.creditMinor)} (${percent(Number(bucket.creditMinor) / total)})`, colour: COLOURS[index % COLOURS.length] })));
  };
  picker.addEventListener('change', draw);
  draw();
  return card(
    'Attribution by team',
    el('p', { class: 'muted' }, `${attribution.conversions} orders worth ${money(attribution.totalValueMinor)}`),
    el('label', { for: 'attribution-model', class: 'field' }, 'Model', picker),
    holder,
    definition(attribution.definition),
  );
}

function cycle(cycle) {
  const transitions = cycle.bySourceTeam[0]?.conversions.map((c) => `${c.from} → ${c.to}`) ?? [];
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Source team'), el('th', { scope: 'col' }, 'Leads'), transitions.map((t) => el('th', { scope: 'col' }, t)), el('th', { scope: 'col' }, 'Won'), el('th', { scope: 'col' }, 'Won revenue'));
  const rows = cycle.bySourceTeam.map((block) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, block.sourceTeam),
      el('td', {}, block.leads),
      block.conversions.map((c) => el('td', { title: interval(c.rate.ciLow, c.rate.ciHigh, percent) }, percent(c.rate.rate))),
      el('td', {}, block.wonCount),
      el('td', {}, `${money(block.wonRevenueMinor)} (${percent(block.shareOfWonRevenue)})`),
    ),
  );
  return card(
    'Revenue cycle by source team',
    el('p', { class: 'muted' }, `Won revenue ${money(cycle.totalWonRevenueMinor)}; marketing-sourced share ${percent(cycle.marketingShareOfWonRevenue)}. Hover a rate for its 95% interval.`),
    el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, rows))),
    definition(cycle.definition),
  );
}

function legend(items) {
  return el('p', { class: 'legend' }, items.map(([text, colour]) => el('span', {}, el('i', { style: `background:${colour}` }), text)));
}

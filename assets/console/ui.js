// Small DOM and chart helpers shared by the pages.
import uPlot from '../vendor/uplot-1.6.32/uPlot.esm.js';

export const COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'];

/** An element: el('p', { class: 'x' }, 'text', child…). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function card(title, ...children) {
  return el('section', { class: 'card', 'aria-label': title }, el('h2', {}, title), ...children);
}

/** The metric's definition, one click (or Enter) away. */
export function definition(def) {
  if (!def) return null;
  return el(
    'details',
    { class: 'definition' },
    el('summary', {}, `Definition: ${def.metric} (v${def.version})`),
    el('p', {}, el('code', {}, def.formula)),
    def.parameters.length
      ? el('p', { class: 'muted' }, def.parameters.map((p) => `${p.name} = ${p.value}`).join(' · '))
      : null,
  );
}

export const number = (value, digits = 1) =>
  value === null || value === undefined ? '–' : Number(value).toLocaleString('en', { maximumFractionDigits: digits });
// A population: null when the API suppressed it for a role without PII access.
export const population = (n) => (n === null || n === undefined ? 'below the minimum audience size' : String(n));
// "n = 42", or what a suppressed n means.
export const sampleSize = (n) => (n === null || n === undefined ? `n ${population(n)}` : `n = ${n}`);
export const percent = (rate) => (rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)}%`);
export const money = (minor) => (minor === null || minor === undefined ? '–' : (Number(minor) / 100).toLocaleString('en', { maximumFractionDigits: 0 }));
export const interval = (low, high, format = number) => (low === null || low === undefined ? '' : `95% CI ${format(low)} – ${format(high)}`);

const epoch = (date) => Date.parse(`${date}T00:00:00Z`) / 1000;

/**
 * A time-series chart. `lines` are { label, values, dash? }; `band`, if
 * given, is { low, high, label } drawn as a shaded interval behind them.
 * The container's data-points attribute tells how many points it plots.
 */
export function timeChart(dates, lines, { band, label, height = 240 } = {}) {
  const holder = el('div', { class: 'chart', role: 'img', 'aria-label': label });
  const xs = dates.map(epoch);
  const data = [xs];
  const series = [{}];
  const bands = [];
  if (band) {
    data.push(band.high, band.low);
    series.push(
      { label: `${band.label} high`, stroke: 'rgba(0,114,178,0.3)', width: 1 },
      { label: `${band.label} low`, stroke: 'rgba(0,114,178,0.3)', width: 1 },
    );
    bands.push({ series: [1, 2], fill: 'rgba(86,180,233,0.25)' });
  }
  lines.forEach((line, index) => {
    data.push(line.values);
    series.push({
      label: line.label,
      stroke: COLOURS[index % COLOURS.length],
      width: 2,
      dash: line.dash ? [6, 4] : undefined,
      points: { show: true, size: 5 },
      spanGaps: true,
    });
  });
  holder.dataset.points = String(xs.length * lines.length);
  const draw = () => {
    holder.replaceChildren();
    const width = Math.max(260, holder.clientWidth || 600);
    new uPlot({ width, height, series, bands, scales: { x: { time: true } }, axes: [{}, { size: 64 }], legend: { live: false } }, data, holder);
  };
  // Drawn once the holder is in the page and has its width; redrawn on resize.
  requestAnimationFrame(draw);
  new ResizeObserver(() => {
    if (holder.querySelector('.uplot') && Math.abs(holder.querySelector('.uplot').clientWidth - holder.clientWidth) > 20) draw();
  }).observe(holder);
  return holder;
}

/** A horizontal bar with an optional 95% interval whisker; `rate` in 0…1. */
export function bar(label, rate, { low, high, text, colour = COLOURS[0], max = 1 } = {}) {
  const width = (value) => `${Math.max(0, Math.min(100, (value / max) * 100))}%`;
  const track = el('span', { class: 'track' }, el('span', { class: 'fill', style: `display:block;width:${width(rate ?? 0)};background:${colour}` }));
  if (low !== null && low !== undefined) {
    track.append(el('span', { class: 'whisker', style: `left:${width(low)};width:calc(${width(high)} - ${width(low)})` }));
  }
  return el('div', { class: 'bar' }, el('span', {}, label), track, el('span', {}, text ?? percent(rate)));
}

/** A blue scale for heatmap cells, light for low values. */
export function heat(rate) {
  const t = Math.max(0, Math.min(1, rate ?? 0));
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return { background: `rgb(${mix(222, 8)},${mix(235, 48)},${mix(247, 107)})`, light: t < 0.45 };
}

export function loading(node) {
  node.replaceChildren(el('p', { class: 'muted', 'aria-busy': 'true' }, 'Loading…'));
}

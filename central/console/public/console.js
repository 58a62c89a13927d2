// The HQ console page: logs in as an HQ user and reads the reports API (read-only).
// Chart.js is loaded by index.html from central (the UMD build: a global `Chart`).
import { messages } from './messages.js';

const $ = (selector) => document.querySelector(selector);
const store = window.sessionStorage;

let locale = localStorage.getItem('cinecard.console.locale') === 'en' ? 'en' : 'zh-CN';
let auth = JSON.parse(store.getItem('cinecard.console.auth') ?? 'null');
let chart;

/** The reports API's file download (`exportReport`): `report` names the report, the rest filter it. */
const exportPath = '/v1/reports/export';

const palette = ['#b4232a', '#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#0a7ea4', '#6e7781', '#e16f24', '#1b7c83'];

function t(key, params = {}) {
  const template = messages[locale][key] ?? messages.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

function applyLanguage() {
  document.documentElement.lang = locale;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  document.title = t('title');
  $('#locale').value = locale;
}

const integer = () => new Intl.NumberFormat(locale);
const money = () => new Intl.NumberFormat(locale, { style: 'currency', currency: 'CNY', minimumFractionDigits: 2 });
const yuan = (fen) => money().format(fen / 100);

function setStatus(text, isError = false) {
  const status = $('#status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

// ── the API ────────────────────────────────────────────────────────────────────────────────────

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

function saveAuth(value) {
  auth = value;
  if (value) store.setItem('cinecard.console.auth', JSON.stringify(value));
  else store.removeItem('cinecard.console.auth');
}

async function request(path, { method = 'GET', body, retry = true } = {}) {
  const headers = { 'accept-language': locale };
  if (auth) headers.authorization = `Bearer ${auth.accessToken}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new Error(t('networkError', { reason: error.message }));
  }
  if (response.status === 401 && retry && auth?.refreshToken && (await refresh())) return request(path, { method, body, retry: false });
  if (response.status === 401 && auth) {
    saveAuth(null);
    showLogin(t('sessionEnded'));
    throw new ApiError(401, { message: t('sessionEnded') });
  }
  if (!response.ok) {
    let problem;
    try {
      problem = await response.json();
    } catch {
      problem = undefined;
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

const getJson = async (path, query = {}) => (await request(`${path}?${new URLSearchParams(query)}`)).json();

// One refresh at a time: requests refused together share it, since a refresh token works once and
// presenting a spent one ends the whole session.
let refreshing;

function refresh() {
  refreshing ??= renewToken().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

async function renewToken() {
  try {
    const response = await fetch('/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': locale },
      body: JSON.stringify({ refreshToken: auth.refreshToken }),
    });
    if (!response.ok) return false;
    const token = await response.json();
    saveAuth({ ...auth, accessToken: token.accessToken, refreshToken: token.refreshToken });
    return true;
  } catch {
    return false;
  }
}

// ── login ──────────────────────────────────────────────────────────────────────────────────────

function showLogin(message = '') {
  $('#console').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#login').hidden = false;
  $('#login-error').textContent = message;
}

async function logIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $('#login-error').textContent = '';
  try {
    const response = await request('/v1/auth/login', { method: 'POST', body: { username: form.get('username'), password: form.get('password') }, retry: false });
    const token = await response.json();
    const session = token.session;
    if (session.cinemaId !== null) {
      $('#login-error').textContent = t('notHq');
      return;
    }
    if (!session.permissions.includes('stats.global')) {
      $('#login-error').textContent = t('noStats');
      return;
    }
    saveAuth({ accessToken: token.accessToken, refreshToken: token.refreshToken, name: session.user?.displayName ?? '', permissions: session.permissions });
    event.target.reset();
    await showConsole();
  } catch (error) {
    $('#login-error').textContent = error.message;
  }
}

async function logOut() {
  if (auth?.refreshToken) {
    try {
      await fetch('/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth.accessToken}` }, body: JSON.stringify({ refreshToken: auth.refreshToken }) });
    } catch {
      // Logging out locally is what matters; the session ends on its own.
    }
  }
  saveAuth(null);
  showLogin();
}

// ── the console ────────────────────────────────────────────────────────────────────────────────

const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** The quick periods, in the browser's calendar (the statistician's, which is the chain's). */
function rangeOf(name, today = new Date()) {
  const y = today.getFullYear();
  const m = today.getMonth();
  switch (name) {
    case 'thisMonth':
      return { from: isoDay(new Date(y, m, 1)), to: isoDay(today) };
    case 'lastMonth':
      return { from: isoDay(new Date(y, m - 1, 1)), to: isoDay(new Date(y, m, 0)) };
    default:
      return { from: isoDay(new Date(y, m, today.getDate() - 29)), to: isoDay(today) };
  }
}

function period() {
  const form = new FormData($('#period'));
  return { from: String(form.get('from')), to: String(form.get('to')) };
}

async function showConsole() {
  $('#login').hidden = true;
  $('#console').hidden = false;
  $('#logout').hidden = false;
  $('#who').textContent = t('signedInAs', { name: auth.name });
  for (const el of document.querySelectorAll('[data-needs]')) el.hidden = !auth.permissions.includes(el.dataset.needs);
  const form = $('#period');
  if (!form.elements.from.value) {
    const params = new URLSearchParams(location.search);
    const fallback = rangeOf('last30');
    form.elements.from.value = params.get('from') ?? fallback.from;
    form.elements.to.value = params.get('to') ?? fallback.to;
  }
  await load();
}

/** Every day from `from` to `to`, as YYYY-MM-DD. */
function daysOf(from, to) {
  const days = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`) && days.length < 1000; d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

async function load() {
  const { from, to } = period();
  if (from > to) {
    setStatus(t('badPeriod'), true);
    return;
  }
  setStatus(t('loading'));
  const canSettle = auth.permissions.includes('settlement.read');
  try {
    const [byDayCinema, settlement, liability] = await Promise.all([
      getJson('/v1/reports/redemptions/summary', { groupBy: 'day,cinema', from, to }),
      canSettle ? getJson('/v1/reports/settlement', { from, to }) : Promise.resolve(undefined),
      getJson('/v1/reports/liability'),
    ]);
    showFigures(byDayCinema.totals, settlement?.totals, liability.totals);
    showChart(byDayCinema.rows, daysOf(from, to));
    if (settlement) showSettlement(settlement);
    setStatus(t('loaded', { time: new Date().toLocaleTimeString(locale) }));
    document.body.dataset.loaded = `${from}..${to}`;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) setStatus(error.message, true);
  }
}

function showFigures(totals, settlementTotals, liabilityTotals) {
  const figure = (name, text) => {
    $(`[data-figure="${name}"]`).textContent = text;
  };
  figure('ops', integer().format(totals.ops));
  figure('uses', integer().format(totals.uses));
  figure('amount', yuan(totals.amountFen));
  if (settlementTotals) {
    figure('cardsSold', integer().format(settlementTotals.cardsSold));
    figure('settlement', yuan(settlementTotals.settlementFen));
    figure('net', yuan(settlementTotals.netFen));
  }
  figure('outstandingUses', integer().format(liabilityTotals.remainingUses));
  figure('outstandingValue', yuan(liabilityTotals.valueFen));
}

function showChart(rows, days) {
  const cinemas = new Map();
  for (const row of rows) {
    const key = row.cinemaId ?? '';
    if (!cinemas.has(key)) cinemas.set(key, { name: row.cinemaName ?? t('unknown'), perDay: new Map() });
    const perDay = cinemas.get(key).perDay;
    perDay.set(row.day, (perDay.get(row.day) ?? 0) + row.ops);
  }
  const datasets = [...cinemas.values()]
    // One order (and so one colour per cinema) whatever the page's language.
    .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
    .map((cinema, i) => ({
      label: cinema.name,
      data: days.map((day) => cinema.perDay.get(day) ?? 0),
      backgroundColor: palette[i % palette.length],
      stack: 'redemptions',
    }));
  $('#chart-empty').hidden = rows.length > 0;
  const canvas = $('#chart');
  canvas.setAttribute('aria-label', t('chartTitle'));
  if (chart) chart.destroy();
  chart = new window.Chart(canvas, {
    type: 'bar',
    data: { labels: days, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 250 },
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}

function cell(text, numeric = false) {
  const td = document.createElement('td');
  td.textContent = text;
  if (numeric) td.className = 'num';
  return td;
}

/** The counts and amounts of a settlement line or of the totals, as table cells. */
function figureCells(x) {
  return [
    cell(integer().format(x.cardsSold), true),
    cell(integer().format(x.usesSold), true),
    cell(yuan(x.salesValueFen), true),
    cell(integer().format(x.redemptions), true),
    cell(integer().format(x.usesRedeemed), true),
    cell(yuan(x.settlementFen), true),
    cell(yuan(x.netFen), true),
  ];
}

function showSettlement(settlement) {
  const body = $('#settlement tbody');
  body.replaceChildren(
    ...settlement.rows.map((row) => {
      const tr = document.createElement('tr');
      tr.append(cell(row.cinemaName ?? t('unknown')), cell(row.cardTypeName ?? t('unknown')), cell(yuan(row.settlementPricePerUseFen), true), ...figureCells(row));
      return tr;
    }),
  );
  const tr = document.createElement('tr');
  tr.append(cell(t('total')), cell(''), cell(''), ...figureCells(settlement.totals));
  $('#settlement tfoot').replaceChildren(tr);
}

/** The file name from Content-Disposition (RFC 5987 `filename*` first). */
function fileNameOf(disposition, fallback) {
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? '');
  if (extended) return decodeURIComponent(extended[1]);
  const plain = /filename="([^"]+)"/i.exec(disposition ?? '');
  return plain ? plain[1] : fallback;
}

/** A byte count as KB or MB with one decimal. */
function sizeText(bytes) {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function download(event) {
  const button = event.target.closest('[data-export]');
  if (!button) return;
  const { from, to } = period();
  const format = button.dataset.format;
  setStatus(t('exporting'));
  button.disabled = true;
  try {
    // The file's headers follow Accept-Language, which request() sends.
    const response = await request(`${exportPath}?${new URLSearchParams({ report: button.dataset.export, format, from, to })}`);
    const name = fileNameOf(response.headers.get('content-disposition'), `${button.dataset.export}.${format}`);
    // The file is streamed as it is made: show how much has arrived while a long export runs.
    const chunks = [];
    let received = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      setStatus(t('exporting_progress', { size: sizeText(received) }));
    }
    const url = URL.createObjectURL(new Blob(chunks, { type: response.headers.get('content-type') ?? 'application/octet-stream' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setStatus(t('exported', { file: name }));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) setStatus(error.message, true);
  } finally {
    button.disabled = false;
  }
}

// ── start ──────────────────────────────────────────────────────────────────────────────────────

$('#login-form').addEventListener('submit', logIn);
$('#logout').addEventListener('click', logOut);
$('#period').addEventListener('submit', (event) => {
  event.preventDefault();
  void load();
});
$('.exports').addEventListener('click', download);
$('.quick').addEventListener('click', (event) => {
  const button = event.target.closest('[data-range]');
  if (!button) return;
  const { from, to } = rangeOf(button.dataset.range);
  $('#period').elements.from.value = from;
  $('#period').elements.to.value = to;
  void load();
});
$('#locale').addEventListener('change', (event) => {
  locale = event.target.value === 'en' ? 'en' : 'zh-CN';
  localStorage.setItem('cinecard.console.locale', locale);
  applyLanguage();
  if (auth) {
    $('#who').textContent = t('signedInAs', { name: auth.name });
    void load();
  }
});

applyLanguage();
if (auth) void showConsole();
else showLogin();

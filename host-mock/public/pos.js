// The till's page: draws the state the server pushes, sends what the cashier does.
import { messages } from './messages.js';
import { fill, h } from './dom.js';
import { forgetClosed, renderView } from './views.js';

let state;
let ws;
let loginFailed = false;
let cardHint = false;
const renderedViews = new Map(); // viewId → { json, el }

const $ = (sel) => document.querySelector(sel);
const t = () => messages[state?.locale ?? 'zh-CN'];
const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;
const loc = (o) => (o ? o[state.locale] ?? o['zh-CN'] : '');
const send = (m) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));

function connect() {
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.t === 'login-failed') {
      loginFailed = true;
      return renderLogin();
    }
    if (m.t === 'file') return download(m.url, m.name);
    if (m.t === 'state') {
      const wasLoggedIn = !!state?.operator;
      state = m;
      if (state.operator) loginFailed = false;
      if (state.basket.tenders.length > 0 || !state.basket.tickets.length) cardHint = false;
      render(wasLoggedIn !== !!state.operator);
    }
  };
  ws.onopen = () => $('#offline').hidden = true;
  ws.onclose = () => {
    $('#offline').hidden = false;
    setTimeout(connect, 500);
  };
}

/** Saves a file the plugin offered (a report export): its one-time URL on the till's server. */
function download(url, name) {
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

function render(sessionChanged) {
  document.documentElement.lang = state.locale;
  document.title = `${loc(state.cinemaName)} · ${t().appName}`;
  $('#offline').textContent = t().connection;
  renderTop();
  if (!state.operator) {
    $('#till').hidden = true;
    $('#login').hidden = false;
    renderLogin(sessionChanged);
  } else {
    $('#login').hidden = true;
    $('#till').hidden = false;
    renderProgramme();
    renderBasket();
  }
  renderPanel();
  renderViews();
}

function renderTop() {
  const s = state.sync;
  const syncLabel = { online: t().syncOnline, offline: t().syncOffline, refused: t().syncRefused }[s.link] ?? t().syncLocal;
  const bar = $('#topbar');
  fill(bar, 
    h('div', { class: 'brand' }, h('span', { class: 'logo' }, '影'), h('div', {}, h('strong', {}, loc(state.cinemaName)), h('small', {}, `${t().terminal} ${state.stationId}`))),
    h('div', { class: 'spacer' }),
    h('div', { class: `sync ${s.link}`, 'data-testid': 'sync', title: s.lastContact ?? '' },
      h('span', { class: 'dot' }), `${syncLabel} · ${t().pending} ${s.pending}`),
    state.operator ? menuButton() : null,
    state.operator ? h('div', { class: 'who', 'data-testid': 'operator' }, `${t().cashier}：${state.operator.name}`) : null,
    h('div', { class: 'lang' },
      ['zh-CN', 'en'].map((l) => h('button', { type: 'button', class: state.locale === l ? 'on' : '', 'data-locale': l, onclick: () => send({ t: 'locale', locale: l }) }, l === 'zh-CN' ? '中文' : 'EN'))),
    state.operator ? h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'logout', onclick: () => send({ t: 'logout' }) }, t().logout) : null,
  );
}

function menuButton() {
  const wrap = h('div', { class: 'menu' });
  const list = h('div', { class: 'menu-list', 'data-testid': 'menu-list', hidden: true });
  const groups = new Map();
  for (const m of state.menu) groups.set(m.group ?? '', [...(groups.get(m.group ?? '') ?? []), m]);
  if (state.menu.length === 0) list.append(h('p', { class: 'muted' }, t().menuEmpty));
  for (const [g, entries] of groups) {
    list.append(h('h4', {}, t().groups[g] ?? g));
    for (const m of entries) list.append(h('button', { type: 'button', 'data-menu-id': m.id, onclick: () => { list.hidden = true; send({ t: 'menu', id: m.id }); } }, m.title));
  }
  wrap.append(h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'menu', onclick: () => (list.hidden = !list.hidden) }, `☰ ${t().menu}`), list);
  return wrap;
}

function renderLogin(reset) {
  const box = $('#login');
  if (box.childElementCount && !reset && box.dataset.locale === state.locale && !loginFailed === !box.querySelector('.error')) return;
  box.dataset.locale = state.locale;
  const id = h('input', { name: 'login', autocomplete: 'username', 'data-testid': 'login-id', required: true });
  const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', 'data-testid': 'login-password', required: true });
  fill(box, h('form', { class: 'login-card', onsubmit: (e) => { e.preventDefault(); send({ t: 'login', login: id.value, password: pw.value }); } },
    h('h1', {}, t().loginTitle),
    h('p', { class: 'muted' }, `${loc(state.cinemaName)} · ${t().terminal} ${state.stationId}`),
    h('label', {}, t().loginId, id),
    h('label', {}, t().password, pw),
    loginFailed ? h('p', { class: 'error', role: 'alert' }, t().loginFailed) : null,
    h('button', { class: 'btn primary big', type: 'submit', 'data-testid': 'login-submit' }, t().login)));
}

function renderProgramme() {
  const c = state.catalogue;
  const films = new Map(c.films.map((f) => [f.id, f]));
  const shows = $('#showtimes');
  const selectedType = shows.dataset.ticketType ?? 'adult';
  fill(shows, 
    h('div', { class: 'section-head' }, h('h3', {}, t().showtimes),
      h('div', { class: 'types' }, c.ticketTypes.map((tt) => h('button', { type: 'button', class: tt.id === selectedType ? 'chip on' : 'chip', 'data-ticket-type': tt.id,
        onclick: () => { shows.dataset.ticketType = tt.id; renderProgramme(); } }, loc(tt.name))))),
    h('div', { class: 'grid shows' }, c.showtimes.map((s) => {
      const f = films.get(s.filmId);
      const tt = c.ticketTypes.find((x) => x.id === selectedType);
      return h('button', { type: 'button', class: 'tile show', 'data-showtime': s.id, onclick: () => send({ t: 'add-ticket', showtimeId: s.id, ticketType: selectedType }) },
        h('span', { class: 'time' }, s.startsAt.slice(11, 16)),
        h('span', { class: 'film' }, loc(f.name)),
        h('span', { class: 'meta' }, `${loc(s.hall)} · ${s.format}`),
        h('span', { class: 'price' }, yuan(Math.max(0, s.basePriceFen + (tt?.deltaFen ?? 0)))));
    })),
  );
  fill($('#concessions'), 
    h('div', { class: 'section-head' }, h('h3', {}, t().concessions)),
    h('div', { class: 'grid snacks' }, c.concessions.map((i) => h('button', { type: 'button', class: 'tile snack', 'data-sku': i.sku, onclick: () => send({ t: 'add-concession', sku: i.sku }) },
      h('span', { class: 'film' }, loc(i.name)), h('span', { class: 'price' }, yuan(i.priceFen))))),
  );
}

function renderBasket() {
  const b = state.basket;
  const c = state.catalogue;
  const lines = [
    ...b.tickets.map((tk) => {
      const s = c.showtimes.find((x) => x.id === tk.showtimeId);
      const film = c.films.find((f) => f.title === tk.film);
      const tt = c.ticketTypes.find((x) => x.id === tk.ticketType);
      return { id: tk.lineId, name: `${loc(film?.name) || tk.film} ${tk.format}`, detail: `${tk.showtime.slice(11, 16)} · ${loc(s?.hall)} · ${loc(tt?.name)}`, amount: tk.priceFen };
    }),
    ...b.concessions.map((x) => {
      const item = c.concessions.find((i) => i.sku === x.sku);
      return { id: x.lineId, name: loc(item?.name) || x.name, detail: `${yuan(x.unitPriceFen)} × ${x.quantity}`, amount: x.unitPriceFen * x.quantity };
    }),
  ];
  const locked = b.tenders.length > 0;
  fill($('#basket'), 
    h('div', { class: 'section-head' }, h('h3', {}, t().basket), h('small', { class: 'muted' }, `#${b.saleId.slice(0, 8)}`)),
    h('ul', { class: 'lines', 'data-testid': 'basket-lines' }, lines.length === 0 ? h('li', { class: 'empty' }, t().empty) : lines.map((l) =>
      h('li', { 'data-line-id': l.id }, h('div', {}, h('strong', {}, l.name), h('small', {}, l.detail)), h('span', { class: 'amt' }, yuan(l.amount)),
        locked ? null : h('button', { type: 'button', class: 'rm', title: t().remove, onclick: () => send({ t: 'remove-line', lineId: l.id }) }, '×')))),
    h('div', { class: 'tenders', 'data-testid': 'tenders' }, b.tenders.map((tn) => h('div', { class: `tender ${tn.kind}`, 'data-tender': tn.kind },
      h('span', {}, tn.kind === 'cash' ? t().cash : `${t().cinecard} ${tn.cardNo} · ${tn.uses} ${t().uses}`), h('span', {}, `−${yuan(tn.amountFen)}`)))),
    h('div', { class: 'totals' },
      h('div', {}, h('span', {}, t().total), h('strong', { 'data-testid': 'total' }, yuan(b.totalFen))),
      h('div', { class: 'due' }, h('span', {}, b.paid ? t().paid : t().due), h('strong', { 'data-testid': 'due' }, yuan(b.dueFen)))),
    cardHint ? h('div', { class: 'hint', role: 'status' }, t().payCardHint) : null,
    h('div', { class: 'pay' },
      h('button', { type: 'button', class: 'btn card', 'data-testid': 'pay-card', disabled: b.dueFen === 0 || b.tenders.length > 0, onclick: () => { cardHint = true; renderBasket(); } }, t().payCard),
      h('button', { type: 'button', class: 'btn cash', 'data-testid': 'pay-cash', disabled: b.dueFen === 0, onclick: () => send({ t: 'pay-cash' }) }, t().payCash)),
    h('button', { type: 'button', class: `btn ${b.paid ? 'primary' : 'ghost'} wide`, 'data-testid': 'new-sale', disabled: locked && !b.paid, onclick: () => send({ t: 'new-sale' }) }, t().newSale),
  );
}

function renderPanel() {
  const r = state.reader;
  const panel = $('#cardpanel');
  if (r.kind === 'pcsc') {
    fill(panel, h('h3', {}, t().pcscReader), h('p', { class: 'muted' }, r.name || '—'));
    return;
  }
  fill(panel, 
    h('div', { class: 'section-head' }, h('h3', {}, t().cardPanel), h('small', { class: 'muted' }, t().cardPanelHint)),
    h('div', { class: 'reader', 'data-testid': 'reader' },
      h('div', { class: `pad ${r.cardNo ? 'busy' : ''}` }, r.cardNo ? r.cardNo : t().noCard),
      h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'card-remove', disabled: !r.cardNo, onclick: () => send({ t: 'card-remove' }) }, t().removeCard),
      h('button', { type: 'button', class: `btn ${r.tearArmed ? 'danger' : 'ghost'}`, 'data-testid': 'card-tear', disabled: !r.cardNo || r.tearArmed, onclick: () => send({ t: 'card-tear' }) }, t().tear)),
    r.tearArmed ? h('p', { class: 'warn' }, t().tearArmed) : null,
    h('div', { class: 'cards' }, r.cards.map((c) => {
      const here = c.on === r.name;
      return h('button', { type: 'button', class: `demo-card ${here ? 'here' : c.on ? 'away' : ''}`, 'data-card-no': c.cardNo, onclick: () => send({ t: 'card-tap', cardNo: c.cardNo }) },
        h('span', { class: 'chip-icon' }), h('strong', {}, c.label), h('span', { class: 'no' }, c.cardNo),
        h('small', {}, here ? t().onReader : c.on ? t().elsewhere : ''));
    })),
  );
}

function renderViews() {
  const host = $('#views');
  const open = new Set(state.views.map((v) => v.view.id));
  for (const [id, r] of renderedViews) if (!open.has(id)) { r.el.remove(); renderedViews.delete(id); }
  forgetClosed(open);
  state.views.forEach((v, i) => {
    const json = JSON.stringify(v.view);
    const old = renderedViews.get(v.view.id);
    let el = old?.el;
    if (!old || old.json !== json) {
      const focused = document.activeElement?.dataset?.fieldId;
      el = renderView(v, send, t().close);
      if (old) old.el.replaceWith(el);
      renderedViews.set(v.view.id, { json, el });
      queueMicrotask(() => {
        const target = (focused && el.querySelector(`[data-field-id="${CSS.escape(focused)}"]`)) || el.querySelector('input:not([disabled]),select:not([disabled])');
        target?.focus();
      });
    }
    if (host.children[i] !== el) host.insertBefore(el, host.children[i] ?? null); // the newest on top
  });
}

window.__pos = { send, state: () => state };
connect();

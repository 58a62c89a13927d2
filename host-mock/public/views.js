// Renders the plugin's views (plain data, spec/host-contract.md) in the till's own look.
// Field values the cashier typed survive updates of the same view.
import { h } from './dom.js';

/** viewId → fieldId → what the cashier typed. */
const typed = new Map();



function fieldValues(root) {
  const values = {};
  for (const el of root.querySelectorAll('[data-field-id]')) values[el.dataset.fieldId] = el.value === '' ? null : el.value;
  return values;
}

function renderNode(node, ctx) {
  switch (node.type) {
    case 'stack':
      return h('div', { class: `v-stack ${node.direction === 'horizontal' ? 'row' : 'col'}` }, node.children.map((c) => renderNode(c, ctx)));
    case 'text':
      return h('p', { class: `v-text tone-${node.tone ?? 'normal'} size-${node.size ?? 'md'}` }, node.text);
    case 'banner':
      return h('div', { class: `v-banner tone-${node.tone}`, role: node.tone === 'critical' || node.tone === 'warning' ? 'alert' : 'status' },
        node.title ? h('strong', {}, node.title) : null, h('span', {}, node.text));
    case 'progress':
      return h('div', { class: 'v-progress' },
        node.label ? h('span', { class: 'label' }, node.label) : null,
        h('progress', { value: node.value, max: node.max }),
        h('span', { class: 'pct' }, `${Math.round((100 * node.value) / node.max)}%`));
    case 'table': {
      const head = h('tr', {}, node.columns.map((c) => h('th', { class: c.align === 'end' ? 'end' : '' }, c.label)));
      const body = node.rows.length === 0
        ? [h('tr', {}, h('td', { colspan: node.columns.length, class: 'empty' }, node.emptyText ?? '—'))]
        : node.rows.map((r) => h('tr', {}, node.columns.map((c) => h('td', { class: c.align === 'end' ? 'end' : '' }, r[c.key] ?? ''))));
      return h('div', { class: 'v-table-wrap' }, h('table', { class: 'v-table', 'data-table-id': node.id }, h('thead', {}, head), h('tbody', {}, body)));
    }
    case 'field': return renderField(node, ctx);
    case 'button':
      return h('button', {
        class: `btn ${node.variant ?? 'secondary'}`,
        type: 'button',
        'data-action': node.id,
        disabled: node.disabled,
        onclick: (e) => {
          const root = e.currentTarget.closest('[data-view-id]');
          ctx.send({ t: 'press', viewId: ctx.viewId, action: node.id, values: fieldValues(root) });
        },
      }, node.label);
    default:
      return h('span', {}, '');
  }
}

function renderField(node, ctx) {
  const mine = typed.get(ctx.viewId) ?? new Map();
  typed.set(ctx.viewId, mine);
  const value = mine.has(node.id) ? mine.get(node.id) : (node.value ?? '');
  const common = { id: `f-${ctx.viewId}-${node.id}`, 'data-field-id': node.id, disabled: node.disabled, required: node.required, 'aria-invalid': node.error ? 'true' : undefined };
  const remember = (e) => mine.set(node.id, e.currentTarget.value);
  let input;
  if (node.kind === 'select') {
    input = h('select', { ...common, onchange: remember }, (node.options ?? []).map((o) => h('option', { value: o.value, selected: String(value) === o.value }, o.label)));
  } else {
    const type = { number: 'number', text: 'text', password: 'password', date: 'date' }[node.kind];
    input = h('input', { ...common, type, min: node.min, max: node.max, step: node.step, placeholder: node.placeholder, oninput: remember, inputmode: node.kind === 'number' ? 'numeric' : undefined });
    input.value = value === null ? '' : String(value);
  }
  return h('label', { class: `v-field kind-${node.kind}`, for: common.id },
    h('span', { class: 'label' }, node.label, node.required ? h('em', {}, ' *') : null),
    input,
    node.error ? h('span', { class: 'error' }, node.error) : null);
}

/** Builds one view's element: a modal dialog or a full management screen. */
export function renderView(state, send, closeLabel) {
  const { view } = state;
  const ctx = { viewId: view.id, send };
  const header = h('header', {},
    h('h2', {}, view.title),
    view.dismissible ? h('button', { class: 'x', type: 'button', 'aria-label': closeLabel, onclick: () => send({ t: 'dismiss', viewId: view.id }) }, '×') : null);
  const body = h('div', { class: 'body' }, view.children.map((c) => renderNode(c, ctx)));
  const box = h('section', { class: `plugin-${view.type}`, 'data-view-id': view.id, 'data-view-type': view.type, role: 'dialog', 'aria-label': view.title }, header, body);
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && view.dismissible) send({ t: 'dismiss', viewId: view.id });
  });
  return h('div', { class: `overlay ${view.type}` }, box);
}

/** Forget what was typed into views that have closed. */
export function forgetClosed(openIds) {
  for (const id of typed.keys()) if (!openIds.has(id)) typed.delete(id);
}

/**
 * The cinema's own administration (manager): local users and their roles, the redemption rules —
 * and, in plugin-login mode, logging in and out of CineCard.
 */
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { ViewNode, ViewResult } from '../../adapters/host-ui.ts';
import type { Schemas } from '../../central/client/index.ts';
import { terminalRoles, type Actor, type Role } from '../auth/permissions.ts';
import type { RedemptionRule } from '../redemption/redemption-rules.ts';
import type { PluginScreen } from './plugin-screen.ts';
import { ScreenContext } from './screen-context.ts';
import { ListEditorScreen } from './list-editor-screen.ts';
import { ACTION_CLOSE, intValue, textValue, type Notice } from './screen-view.ts';

@injectable()
export class LoginScreen implements PluginScreen {
  readonly id = 'cinecard.login';
  readonly title = 'screen.login.title' as const;
  readonly permission = null;
  readonly group = 'admin' as const;
  readonly userMode = 'plugin_login' as const;

  constructor(@inject(ScreenContext) private readonly ctx: ScreenContext) {}

  async open(_actor: Actor | undefined): Promise<void> {
    const { ctx } = this;
    const k = ctx.kit;
    const view = ctx.view(this.id, this.title);
    const current = ctx.users.current;
    if (current) {
      const r = await view.open([
        k.text('screen.login.as', { name: current.displayName }, 'strong'),
        { type: 'stack', direction: 'horizontal', children: [k.button('logout', 'screen.login.logout', 'primary'), k.button(ACTION_CLOSE, 'screen.close')] },
      ]);
      if (r?.action === 'logout') {
        ctx.users.logout();
        await view.notify([{ tone: 'success', key: 'screen.login.logged_out' }]);
      }
      return;
    }
    let problem: Notice | undefined;
    let username = '';
    for (;;) {
      const r = await view.open([
        ...(problem ? [k.banner(problem)] : []),
        k.field('username', 'text', 'screen.login.username', username, { required: true }),
        k.field('password', 'password', 'screen.login.password', '', { required: true }),
        k.confirmCancel('screen.login.login'),
      ]);
      if (r?.action !== 'confirm') return;
      username = textValue(r, 'username');
      const actor = await ctx.users.login(username, textValue(r, 'password'));
      if (actor) {
        await view.notify([{ tone: 'success', key: 'screen.login.welcome', params: { name: actor.displayName } }]);
        return;
      }
      problem = { tone: 'critical', key: 'screen.login.wrong' };
    }
  }
}

const roleOptions = (ctx: ScreenContext) => terminalRoles.map((r) => ({ value: r, label: ctx.kit.t(`role.${r}`) }));

@injectable()
export class UsersScreen extends ListEditorScreen {
  readonly id = 'cinecard.admin.users';
  readonly title = 'screen.users.title' as const;
  readonly permission = 'users.manage' as const;
  readonly group = 'admin' as const;
  protected readonly actions = [
    { id: 'save', label: 'screen.users.save', variant: 'primary' }, { id: 'disable', label: 'screen.users.disable', variant: 'danger' }, { id: 'enable', label: 'screen.users.enable' },
  ] as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  protected async body(): Promise<ViewNode[]> {
    const k = this.ctx.kit;
    const users = await this.ctx.localUsers.list();
    return [
      k.table('users', [['username', 'screen.users.username'], ['name', 'screen.users.name'], ['roles', 'screen.users.roles'], ['state', 'screen.users.state']],
        users.map((u) => ({ username: u.username, name: u.displayName, roles: u.roles.map((r) => k.t(`role.${r}`)).join('、'), state: k.t(u.disabled ? 'screen.users.disabled' : 'screen.users.enabled') })),
        'screen.users.empty'),
      k.field('username', 'text', 'screen.users.username', '', { required: true }),
      k.field('name', 'text', 'screen.users.name', ''),
      k.field('password', 'password', 'screen.users.password', ''),
      k.field('operator', 'text', 'screen.users.host_operator', ''),
      k.select('role', 'screen.users.role', 'salesperson', roleOptions(this.ctx)),
    ];
  }

  protected async act(action: string, r: ViewResult): Promise<Notice> {
    const { ctx } = this;
    const username = textValue(r, 'username');
    if (!/^[\w.@-]{2,64}$/u.test(username)) return { tone: 'warning', key: 'screen.users.username_invalid' };
    const existing = (await ctx.localUsers.list()).find((u) => u.username === username);
    if (action !== 'save') {
      if (!existing) return { tone: 'warning', key: 'screen.users.unknown', params: { username } };
      if (existing.userId === ctx.users.current?.userId) return { tone: 'warning', key: 'screen.users.not_yourself' };
      await ctx.localUsers.setDisabled(existing.userId, action === 'disable');
      return { tone: 'success', key: action === 'disable' ? 'screen.users.disabled_done' : 'screen.users.enabled_done', params: { username } };
    }
    const role = textValue(r, 'role') as Role;
    if (!(terminalRoles as readonly string[]).includes(role)) return { tone: 'warning', key: 'screen.users.role_invalid' };
    const password = textValue(r, 'password');
    if (existing) {
      await ctx.localUsers.setRoles(existing.userId, [role]);
      return { tone: 'success', key: 'screen.users.roles_set', params: { username, role: ctx.kit.t(`role.${role}`) } };
    }
    if (ctx.users.mode === 'plugin_login' && password.length < 8) return { tone: 'warning', key: 'screen.users.password_short' };
    const operator = textValue(r, 'operator');
    await ctx.localUsers.put({
      userId: randomUUID(), username, displayName: textValue(r, 'name') || username, roles: [role],
      ...(password && { password }), ...(operator && { hostOperatorId: operator }),
    });
    return { tone: 'success', key: 'screen.users.created', params: { username, role: ctx.kit.t(`role.${role}`) } };
  }
}

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

@injectable()
export class RulesScreen extends ListEditorScreen {
  readonly id = 'cinecard.admin.rules';
  readonly title = 'screen.rules.title' as const;
  readonly permission = 'rules.manage' as const;
  readonly group = 'admin' as const;
  protected readonly actions = [{ id: 'save', label: 'screen.rules.save', variant: 'primary' }, { id: 'delete', label: 'screen.rules.delete', variant: 'danger' }] as const;

  constructor(@inject(ScreenContext) ctx: ScreenContext) {
    super(ctx);
  }

  protected async body(): Promise<ViewNode[]> {
    const k = this.ctx.kit;
    const rules = await this.ctx.rules.rules(this.ctx.config.terminal.cinemaId);
    return [
      k.table('rules', [['name', 'screen.rules.name'], ['kind', 'redeem.consumption'], ['film', 'screen.rules.film'], ['format', 'screen.rules.format'],
        ['dayPart', 'screen.rules.day_part'], ['uses', 'screen.rules.uses_per_ticket'], ['value', 'screen.rules.value_per_use'], ['priority', 'screen.rules.priority']],
      rules.map((x) => ({
        name: x.name, kind: k.t(`redeem.consumption.${x.kind}`), film: x.film ?? k.t('screen.rules.any'), format: x.format ?? k.t('screen.rules.any'),
        dayPart: x.dayPart ? `${x.dayPart.from}–${x.dayPart.to}` : k.t('screen.rules.any'), uses: x.usesPerTicket, value: x.valuePerUseFen === null ? null : (x.valuePerUseFen / 100).toFixed(2), priority: x.priority,
      })), 'screen.rules.empty'),
      k.field('name', 'text', 'screen.rules.name', '', { required: true }),
      k.select('kind', 'redeem.consumption', 'ticket', (['ticket', 'concession'] as const).map((c) => ({ value: c, label: k.t(`redeem.consumption.${c}`) }))),
      k.field('film', 'text', 'screen.rules.film', ''),
      k.field('format', 'text', 'screen.rules.format', ''),
      k.field('from', 'text', 'screen.rules.from', ''),
      k.field('to', 'text', 'screen.rules.to', ''),
      k.field('uses', 'number', 'screen.rules.uses_per_ticket', 1, { min: 1 }),
      k.field('value', 'number', 'screen.rules.value_per_use_fen', null, { min: 1 }),
      k.field('priority', 'number', 'screen.rules.priority', 0),
    ];
  }

  /** Saves (adds, or replaces the rule of that name) or deletes a rule: locally, then at central. */
  protected async act(action: string, r: ViewResult): Promise<Notice> {
    const { ctx } = this;
    const cinemaId = ctx.config.terminal.cinemaId;
    const rules = await ctx.rules.rules(cinemaId);
    const name = textValue(r, 'name');
    if (!name) return { tone: 'warning', key: 'screen.rules.name_required' };
    const existing = rules.find((x) => x.name === name);
    const version = ((await ctx.rules.version(cinemaId)) ?? 0) + 1;
    if (action === 'delete') {
      if (!existing) return { tone: 'warning', key: 'screen.rules.unknown', params: { name } };
      await ctx.rules.put(cinemaId, version, rules.filter((x) => x !== existing));
      const sent = await ctx.central.call((c) => c.DELETE('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', { params: { path: { cinemaId, ruleId: existing.id } } }));
      return { tone: 'success', key: 'screen.rules.deleted', params: { name, central: this.centralWord(sent.kind) } };
    }
    const kind = textValue(r, 'kind') === 'concession' ? 'concession' : 'ticket';
    const from = textValue(r, 'from'), to = textValue(r, 'to');
    if ((from || to) && !(HHMM.test(from) && HHMM.test(to))) return { tone: 'warning', key: 'screen.rules.day_part_invalid' };
    const uses = intValue(r, 'uses'), value = intValue(r, 'value'), priority = intValue(r, 'priority') ?? 0;
    if (kind === 'ticket' && (uses === undefined || uses < 1)) return { tone: 'warning', key: 'screen.rules.uses_invalid' };
    if (kind === 'concession' && (value === undefined || value < 1)) return { tone: 'warning', key: 'screen.rules.value_invalid' };
    const body = {
      kind, name, cardTypeId: existing?.cardTypeId ?? null, film: textValue(r, 'film') || null, format: textValue(r, 'format') || null,
      dayPart: from ? { from, to } : null, usesPerTicket: kind === 'ticket' ? uses! : null, valuePerUseFen: kind === 'concession' ? value! : null, priority,
    } as const;
    // Central's create takes no nulls (absent means "any"); its update takes nulls and never the kind.
    const { kind: _kind, usesPerTicket, valuePerUseFen, ...narrowing } = body;
    const update: Schemas['RedemptionRuleUpdate'] = { ...narrowing, ...(usesPerTicket !== null && { usesPerTicket }), ...(valuePerUseFen !== null && { valuePerUseFen }) };
    const create = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) as Schemas['RedemptionRuleCreate'];
    const sent = existing
      ? await ctx.central.call((c) => c.PATCH('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', { params: { path: { cinemaId, ruleId: existing.id } }, body: update }))
      : await ctx.central.call((c) => c.POST('/v1/cinemas/{cinemaId}/redemption-rules', { params: { path: { cinemaId } }, body: create }));
    const id = sent.kind === 'ok' ? (sent.data as { id: string }).id : (existing?.id ?? randomUUID());
    const rule: RedemptionRule = { id, ...body };
    await ctx.rules.put(cinemaId, version, [...rules.filter((x) => x !== existing), rule]);
    return { tone: 'success', key: 'screen.rules.saved', params: { name, central: this.centralWord(sent.kind) } };
  }

  private centralWord(kind: 'ok' | 'offline' | 'refused'): string {
    return this.ctx.kit.t(kind === 'ok' ? 'screen.sent_to_central' : kind === 'offline' ? 'screen.rules.local_only' : 'screen.rules.central_refused');
  }
}



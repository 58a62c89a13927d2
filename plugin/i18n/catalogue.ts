/**
 * The plugin's message catalogue: every string a cashier or manager can see, in zh-CN (the default)
 * and en. Keys are stable; `{name}` placeholders are filled by {@link translate}.
 */
import type { Locale } from '../../adapters/host-session.ts';

export interface Entry {
  readonly 'zh-CN': string;
  readonly en: string;
}

export const messages = {
  // Card outcomes, as the redemption popup states them.
  'card.ok': { 'zh-CN': '卡片正常', en: 'Card OK' },
  'card.blank': { 'zh-CN': '这是一张空白卡，尚未制卡。', en: 'This is a blank card; it has not been made yet.' },
  'card.not_ours': { 'zh-CN': '这不是本院线的年票卡。', en: 'This card does not belong to this cinema chain.' },
  'card.mac_invalid': {
    'zh-CN': '卡内数据校验失败，卡片可能被篡改，请交由经理处理。',
    en: 'The card data failed its security check; it may have been tampered with. Please refer it to a manager.',
  },
  'card.torn': {
    'zh-CN': '上次写卡未完成，本次已按有效记录读取。',
    en: 'The last write to this card was interrupted; the valid record was read.',
  },
  'card.unreadable': { 'zh-CN': '无法读取此卡，请重新放卡。', en: 'This card cannot be read. Please place it on the reader again.' },
  'card.blocked': { 'zh-CN': '此卡已被锁定，不能消费。', en: 'This card is blocked and cannot be used.' },
  'card.blacklisted': { 'zh-CN': '此卡已列入黑名单，不能消费。', en: 'This card is blacklisted and cannot be used.' },
  'card.expired': { 'zh-CN': '此卡已于 {date} 过期，请办理续期。', en: 'This card expired on {date}. Please renew it.' },
  'card.exhausted': { 'zh-CN': '此卡次数已用完，请回收。', en: 'This card has no uses left. Please take it back for recycling.' },
  'card.not_activated': { 'zh-CN': '此卡尚未售出激活。', en: 'This card has not been sold and activated yet.' },
  'card.recycled': { 'zh-CN': '此卡已回收，不能消费。', en: 'This card has been recycled and cannot be used.' },
  'card.cancelled': { 'zh-CN': '此卡已注销，不能消费。', en: 'This card has been cancelled and cannot be used.' },

  // Card status, as the popup lists it.
  'status.made': { 'zh-CN': '未激活', en: 'Not activated' },
  'status.active': { 'zh-CN': '正常', en: 'Active' },
  'status.recycled': { 'zh-CN': '已回收', en: 'Recycled' },
  'status.cancelled': { 'zh-CN': '已注销', en: 'Cancelled' },

  // Screens and permissions.
  'screen.forbidden_title': { 'zh-CN': '没有权限', en: 'Not allowed' },
  'screen.forbidden': { 'zh-CN': '您的角色不能使用此功能，请联系经理。', en: 'Your role may not use this. Please ask a manager.' },

  // The cashier's redemption popup.
  'redeem.title': { 'zh-CN': '年票卡消费', en: 'CineCard redemption' },
  'redeem.card_no': { 'zh-CN': '卡号：{cardNo}', en: 'Card number: {cardNo}' },
  'redeem.card_type': { 'zh-CN': '卡类型：{type}', en: 'Card type: {type}' },
  'redeem.card_type_code': { 'zh-CN': '类型 {code}', en: 'Type {code}' },
  'redeem.remaining': { 'zh-CN': '剩余次数：{remaining}', en: 'Uses left: {remaining}' },
  'redeem.expiry': { 'zh-CN': '有效期至：{date}', en: 'Valid until: {date}' },
  'redeem.status': { 'zh-CN': '状态：{status}', en: 'Status: {status}' },
  'redeem.consumption': { 'zh-CN': '消费类型', en: 'Consumption' },
  'redeem.consumption.ticket': { 'zh-CN': '影票', en: 'Ticket' },
  'redeem.consumption.concession': { 'zh-CN': '卖品', en: 'Concession' },
  'redeem.uses': { 'zh-CN': '扣减次数', en: 'Uses to deduct' },
  'redeem.confirm': { 'zh-CN': '确认扣次', en: 'Deduct' },
  'redeem.cancel': { 'zh-CN': '取消', en: 'Cancel' },
  'redeem.close': { 'zh-CN': '关闭', en: 'Close' },
  'redeem.prefill_rule': { 'zh-CN': '已按本影城兑换规则预填扣减次数。', en: "Pre-filled from this cinema's redemption rules." },
  'redeem.prefill_default': {
    'zh-CN': '部分商品没有适用的兑换规则，已按每项 1 次预填，请核对。',
    en: 'No redemption rule covers some items; one use each was pre-filled. Please check.',
  },
  'redeem.proposal': {
    'zh-CN': '按规则：影票 {ticket} 次，卖品 {concession} 次。',
    en: 'By the rules: tickets {ticket} uses, concessions {concession} uses.',
  },
  'redeem.no_sale': { 'zh-CN': '当前没有进行中的销售单。', en: 'No sale is in progress.' },
  'redeem.uses_invalid': { 'zh-CN': '请输入 1 到 {max} 之间的整数。', en: 'Enter a whole number from 1 to {max}.' },
  'redeem.no_user': { 'zh-CN': '请先登录年票系统，再为顾客扣次。', en: 'Please log in to CineCard before redeeming a card.' },
  'redeem.no_permission': { 'zh-CN': '您没有扣次权限，请联系经理。', en: 'You are not allowed to redeem cards. Please ask a manager.' },
  'redeem.writing': { 'zh-CN': '正在写卡，请勿拿开卡片……', en: 'Writing the card. Keep it on the reader…' },
  'redeem.done': { 'zh-CN': '扣次成功：本次扣 {uses} 次，剩余 {remaining} 次。', en: 'Done: {uses} used, {remaining} left.' },
  'redeem.done_last': {
    'zh-CN': '此卡次数已全部用完，已记入待回收名单，请收回卡片。',
    en: 'This card has no uses left and is now on the recycling list. Please keep the card.',
  },
  'redeem.tender_applied': { 'zh-CN': '已作为支付计入本单。', en: 'Applied to the sale as payment.' },
  'redeem.tender_none': { 'zh-CN': '没有进行中的销售单，本次扣次未计入任何单据。', en: 'No sale is in progress; this deduction was not applied to a sale.' },
  'redeem.tender_refused': {
    'zh-CN': '收银系统未接受此支付（{reason}）。次数已扣，如需退回请联系经理。',
    en: 'The till did not accept this payment ({reason}). The uses were deducted; ask a manager to reverse them.',
  },
  'redeem.remove_card': { 'zh-CN': '请拿开卡片。', en: 'Please take the card away.' },
  'redeem.write_unconfirmed': {
    'zh-CN': '写卡没有完成确认。请把卡片放回读卡器，系统会自动核对：不会重复扣次。',
    en: 'The card write was not confirmed. Put the card back on the reader to check it; it will never be charged twice.',
  },
  'redeem.failed': { 'zh-CN': '扣次失败，卡上次数未变，请重试。', en: 'The deduction failed; the card was not charged. Please try again.' },
  'redeem.recovered_landed': {
    'zh-CN': '上次未确认的扣次已核实写入卡片：扣 {uses} 次，已记账。',
    en: 'The last unconfirmed deduction is on the card: {uses} used, now recorded.',
  },
  'redeem.recovered_not_landed': {
    'zh-CN': '上次扣次没有写入卡片，未扣任何次数。',
    en: 'The last deduction did not reach the card; nothing was deducted.',
  },
  'redeem.recovered_undetermined': {
    'zh-CN': '无法从卡片确认上次扣次是否成功，本机未记账，请联系经理核对。',
    en: 'The card does not show whether the last deduction succeeded; it was not recorded here. Please ask a manager to check.',
  },
  'redeem.pending_other_card': {
    'zh-CN': '此卡与未完成的写卡记录不符（可能是复制卡），请交由经理处理。',
    en: 'This card does not match its unfinished write (it may be a copy). Please refer it to a manager.',
  },

  // Reader and card I/O, in plain words.
  'reader.card_removed': { 'zh-CN': '卡片已拿开，请把卡重新放回读卡器。', en: 'The card was taken away. Please put it back on the reader.' },
  'reader.reader_gone': { 'zh-CN': '读卡器已断开，请检查连接。', en: 'The card reader was disconnected. Please check its cable.' },
  'reader.service_down': {
    'zh-CN': '读卡服务未运行，正在自动重连……',
    en: 'The card reader service is not running; reconnecting automatically…',
  },
  'reader.card_mute': { 'zh-CN': '卡片没有响应，请重新放卡。', en: 'The card did not answer. Please place it on the reader again.' },
  'reader.sharing_violation': {
    'zh-CN': '读卡器正被其他程序占用。',
    en: 'Another program is using the card reader.',
  },
  'reader.transmit_failed': { 'zh-CN': '读写卡失败，请重试。', en: 'Reading or writing the card failed. Please try again.' },
} as const satisfies Record<string, Entry>;

export type MessageKey = keyof typeof messages;
export type MessageParams = Readonly<Record<string, string | number>>;

export const DEFAULT_LOCALE: Locale = 'zh-CN';

/** The message for `key` in `locale`, with `{name}` placeholders filled from `params`. */
export function translate(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const entry: Entry = messages[key];
  return entry[locale].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

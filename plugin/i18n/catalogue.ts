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

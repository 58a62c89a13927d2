import { defineMessages } from '../errors.ts';

/** Messages of the card registry and its lifecycle. */
export const cardMessages = defineMessages({
  card_not_found: {
    type: 'not_found',
    en: 'There is no card {cardNo}.',
    'zh-CN': '不存在卡号为 {cardNo} 的卡。',
  },
  cards_already_registered: {
    type: 'conflict',
    en: 'Nothing was registered: these cards already exist or repeat in the batch: {list}.',
    'zh-CN': '未登记任何卡：以下卡已存在或在本批中重复：{list}。',
  },
  card_wrong_state: {
    type: 'conflict',
    en: 'Card {cardNo} is {state}; this needs a card that is {allowed}.',
    'zh-CN': '卡 {cardNo} 当前状态为“{state}”；此操作要求状态为“{allowed}”（made 已制卡，active 已售出，recycled 已回收）。',
  },
  card_blacklisted: {
    type: 'conflict',
    en: 'Card {cardNo} is blacklisted; take it off the blacklist first.',
    'zh-CN': '卡 {cardNo} 已列入黑名单，请先将其移出黑名单。',
  },
  card_already_blacklisted: {
    type: 'conflict',
    en: 'Card {cardNo} is already blacklisted.',
    'zh-CN': '卡 {cardNo} 已在黑名单中。',
  },
  card_not_blacklisted: {
    type: 'conflict',
    en: 'Card {cardNo} is not blacklisted.',
    'zh-CN': '卡 {cardNo} 不在黑名单中。',
  },
  card_seq_behind: {
    type: 'conflict',
    en: 'Card {cardNo} has already recorded seq {maxSeq}; a write must move it forward, not to {seq}.',
    'zh-CN': '卡 {cardNo} 已记录到交易序号 {maxSeq}；新的写入必须向前推进，不能为 {seq}。',
  },
  expiry_in_past: {
    type: 'invalid_data',
    en: 'The expiry {expiresAt} is not in the future.',
    'zh-CN': '有效期 {expiresAt} 不在将来。',
  },
  rebuild_invalid: {
    type: 'invalid_data',
    en: 'The rebuild op is not usable: {detail}.',
    'zh-CN': '重建记录无法使用：{detail}。',
  },
  rebuild_uid_taken: {
    type: 'conflict',
    en: 'Card {cardNo} cannot be recreated: its chip UID {uid} belongs to card {other}.',
    'zh-CN': '无法重建卡 {cardNo}：芯片 UID {uid} 已属于卡 {other}。',
  },
  rebuild_op_conflict: {
    type: 'conflict',
    en: 'Rebuild op {opId} was recorded before with other content.',
    'zh-CN': '重建记录 {opId} 之前已以不同内容登记。',
  },
});

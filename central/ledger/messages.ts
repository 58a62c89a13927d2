import { defineMessages } from '../errors.ts';

/** Messages of the shadow ledger. */
export const ledgerMessages = defineMessages({
  op_id_conflict: {
    type: 'conflict',
    en: 'Op {opId} was recorded before with other content; an op id names one op only.',
    'zh-CN': '操作 {opId} 此前已以不同内容记录；一个操作编号只能对应一个操作。',
  },
  seq_taken: {
    type: 'conflict',
    en: 'Card {cardNo} already has an op with seq {seq} (op {otherOpId}).',
    'zh-CN': '卡 {cardNo} 已有交易序号为 {seq} 的操作（操作 {otherOpId}）。',
  },
  card_not_sold: {
    type: 'conflict',
    en: 'Card {cardNo} has not been sold yet; it cannot be used or topped up.',
    'zh-CN': '卡 {cardNo} 尚未售出，不能使用或充值。',
  },
  remaining_mismatch: {
    type: 'invalid_data',
    en: 'A top-up of {uses} uses cannot leave {remainingAfter} uses on card {cardNo}.',
    'zh-CN': '充值 {uses} 次后，卡 {cardNo} 不可能剩余 {remainingAfter} 次。',
  },
});

import { defineMessages } from '../errors.ts';

/** Messages of the card-type module. */
export const cardTypeMessages = defineMessages({
  card_type_not_found: {
    type: 'not_found',
    en: 'There is no card type {cardTypeId}.',
    'zh-CN': '不存在卡类型 {cardTypeId}。',
  },
  card_type_name_taken: {
    type: 'conflict',
    en: 'A card type named "{name}" already exists.',
    'zh-CN': '已存在名为“{name}”的卡类型。',
  },
  uses_below_minimum: {
    type: 'invalid_data',
    en: 'A card must carry at least {minimum} uses, not {uses}.',
    'zh-CN': '每张卡的次数不得少于 {minimum} 次，不能为 {uses} 次。',
  },
});

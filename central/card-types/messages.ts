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
  prices_effective_in_future: {
    type: 'invalid_data',
    en: 'Prices can take effect from today ({today}) or an earlier day, not from {day}: change them on that day instead.',
    'zh-CN': '价格只能从今天（{today}）或更早的日期起生效，不能从 {day} 起生效：请到那天再修改。',
  },
  prices_effective_without_price: {
    type: 'invalid_data',
    en: 'pricesEffectiveFrom ({day}) says from when new prices apply, but the change sets no price: add settlementPricePerUseFen and/or salePriceFen, or leave pricesEffectiveFrom out.',
    'zh-CN': 'pricesEffectiveFrom（{day}）表示新价格的生效日期，但本次修改没有设置价格：请加上 settlementPricePerUseFen 和/或 salePriceFen，或去掉 pricesEffectiveFrom。',
  },
  uses_below_minimum: {
    type: 'invalid_data',
    en: 'A card must carry at least {minimum} uses, not {uses}.',
    'zh-CN': '每张卡的次数不得少于 {minimum} 次，不能为 {uses} 次。',
  },
});

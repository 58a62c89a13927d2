import { defineMessages } from '../errors.ts';

/** Messages of the redemption-rule module. */
export const ruleMessages = defineMessages({
  rule_not_found: {
    type: 'not_found',
    en: 'Cinema {cinemaId} has no redemption rule {ruleId}.',
    'zh-CN': '影院 {cinemaId} 没有兑换规则 {ruleId}。',
  },
  rule_incomplete: {
    type: 'invalid_data',
    en: 'A {kind} rule needs {field}.',
    'zh-CN': '{kind} 规则需要 {field}。',
  },
  rule_field_not_allowed: {
    type: 'invalid_data',
    en: 'A {kind} rule cannot have {field}.',
    'zh-CN': '{kind} 规则不能设置 {field}。',
  },
  day_part_empty: {
    type: 'invalid_data',
    en: 'The day part from {from} to {to} is empty; give two different times.',
    'zh-CN': '时段 {from} 至 {to} 为空，请给出两个不同的时间。',
  },
});

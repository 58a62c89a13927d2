import { defineMessages } from '../errors.ts';

/** Messages of the reports module. */
export const reportMessages = defineMessages({
  report_day_and_range: {
    type: 'invalid_data',
    en: 'Give either a single day (day) or a range of days (from, to), not both.',
    'zh-CN': '请只给出单日（day）或日期范围（from、to）之一，不能同时给出。',
  },
  report_range_reversed: {
    type: 'invalid_data',
    en: 'The range starts ({from}) after it ends ({to}).',
    'zh-CN': '范围的开始（{from}）晚于结束（{to}）。',
  },
  report_card_range_lengths: {
    type: 'invalid_data',
    en: 'The two ends of a card number range must have the same number of digits ({from}, {to}).',
    'zh-CN': '卡号范围的两端位数必须相同（{from}，{to}）。',
  },
  report_card_and_range: {
    type: 'invalid_data',
    en: 'Give either one card number (cardNo) or a range (cardNoFrom, cardNoTo), not both.',
    'zh-CN': '请只给出一个卡号（cardNo）或卡号范围（cardNoFrom、cardNoTo）之一，不能同时给出。',
  },
  report_cursor_invalid: {
    type: 'invalid_data',
    en: 'The cursor {cursor} was not given out by this report; start again without it.',
    'zh-CN': '游标 {cursor} 不是本报表给出的；请不带游标重新开始。',
  },
  report_needs_card: {
    type: 'invalid_data',
    en: 'The card history export needs a card number (cardNo).',
    'zh-CN': '导出卡历史需要卡号（cardNo）。',
  },
});

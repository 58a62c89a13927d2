import { defineMessages } from '../errors.ts';

export const cinemaMessages = defineMessages({
  cinema_not_found: {
    type: 'not_found',
    en: 'There is no cinema with id {cinemaId}.',
    'zh-CN': '不存在编号为 {cinemaId} 的影院。',
  },
  cinema_code_taken: {
    type: 'conflict',
    en: 'The cinema code "{code}" is already used by another cinema.',
    'zh-CN': '影院代码“{code}”已被其他影院使用。',
  },
});

import { defineMessages } from '../errors.ts';

/** Messages of the sync hub. */
export const syncMessages = defineMessages({
  sync_needs_terminal: {
    type: 'forbidden',
    en: 'Only an enrolled terminal (or a user logged in on one) can sync.',
    'zh-CN': '只有已登记的终端（或在终端上登录的用户）才能同步。',
  },
});

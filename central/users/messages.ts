import { defineMessages } from '../errors.ts';

export const userMessages = defineMessages({
  user_not_found: {
    type: 'not_found',
    en: 'There is no user with id {userId}.',
    'zh-CN': '不存在编号为 {userId} 的用户。',
  },
  username_taken: {
    type: 'conflict',
    en: 'The username "{username}" is already taken.',
    'zh-CN': '用户名“{username}”已被占用。',
  },
  roles_mixed: {
    type: 'invalid_data',
    en: 'A user has either HQ roles (admin, operator, statistician) or cinema roles, not both.',
    'zh-CN': '用户只能拥有总部角色（管理员、运营、统计）或影院角色之一，不能兼有。',
  },
  cinema_roles_need_cinema: {
    type: 'invalid_data',
    en: 'Cinema roles need the cinema the user works at (cinemaId).',
    'zh-CN': '影院角色需要指定用户所在的影院（cinemaId）。',
  },
  hq_roles_take_no_cinema: {
    type: 'invalid_data',
    en: 'HQ roles are chain-wide; leave cinemaId out for an HQ user.',
    'zh-CN': '总部角色适用于整个院线，总部用户不要填写 cinemaId。',
  },
  roles_change_scope: {
    type: 'invalid_data',
    en: 'The new roles must be of the same scope as before ({scope}); create a new user instead.',
    'zh-CN': '新角色必须与原角色属于同一范围（{scope}）；请另建用户。',
  },
  cannot_lock_out_self: {
    type: 'conflict',
    en: 'You cannot disable yourself or take away your own admin role.',
    'zh-CN': '不能停用自己，也不能取消自己的管理员角色。',
  },
});

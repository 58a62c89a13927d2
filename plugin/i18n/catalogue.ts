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
  'card.recycled': { 'zh-CN': '此卡已回收，不能消费。', en: 'This card has been recycled and cannot be used.' },
  'card.cancelled': { 'zh-CN': '此卡已注销，不能消费。', en: 'This card has been cancelled and cannot be used.' },

  // Card status, as the popup lists it.
  'status.made': { 'zh-CN': '未激活', en: 'Not activated' },
  'status.active': { 'zh-CN': '正常', en: 'Active' },
  'status.recycled': { 'zh-CN': '已回收', en: 'Recycled' },
  'status.cancelled': { 'zh-CN': '已注销', en: 'Cancelled' },

  // Screens and permissions.
  'screen.forbidden_title': { 'zh-CN': '没有权限', en: 'Not allowed' },
  'screen.forbidden': { 'zh-CN': '您的角色不能使用此功能，请联系经理。', en: 'Your role may not use this. Please ask a manager.' },

  // The cashier's redemption popup.
  'redeem.title': { 'zh-CN': '年票卡消费', en: 'CineCard redemption' },
  'redeem.card_no': { 'zh-CN': '卡号：{cardNo}', en: 'Card number: {cardNo}' },
  'redeem.card_type': { 'zh-CN': '卡类型：{type}', en: 'Card type: {type}' },
  'redeem.card_type_code': { 'zh-CN': '类型 {code}', en: 'Type {code}' },
  'redeem.remaining': { 'zh-CN': '剩余次数：{remaining}', en: 'Uses left: {remaining}' },
  'redeem.expiry': { 'zh-CN': '有效期至：{date}', en: 'Valid until: {date}' },
  'redeem.status': { 'zh-CN': '状态：{status}', en: 'Status: {status}' },
  'redeem.consumption': { 'zh-CN': '消费类型', en: 'Consumption' },
  'redeem.consumption.ticket': { 'zh-CN': '影票', en: 'Ticket' },
  'redeem.consumption.concession': { 'zh-CN': '卖品', en: 'Concession' },
  'redeem.uses': { 'zh-CN': '扣减次数', en: 'Uses to deduct' },
  'redeem.confirm': { 'zh-CN': '确认扣次', en: 'Deduct' },
  'redeem.cancel': { 'zh-CN': '取消', en: 'Cancel' },
  'redeem.close': { 'zh-CN': '关闭', en: 'Close' },
  'redeem.prefill_rule': { 'zh-CN': '已按本影城兑换规则预填扣减次数。', en: "Pre-filled from this cinema's redemption rules." },
  'redeem.prefill_default': {
    'zh-CN': '部分商品没有适用的兑换规则，已按每项 1 次预填，请核对。',
    en: 'No redemption rule covers some items; one use each was pre-filled. Please check.',
  },
  'redeem.proposal': {
    'zh-CN': '按规则：影票 {ticket} 次，卖品 {concession} 次。',
    en: 'By the rules: tickets {ticket} uses, concessions {concession} uses.',
  },
  'redeem.no_sale': { 'zh-CN': '当前没有进行中的销售单。', en: 'No sale is in progress.' },
  'redeem.uses_invalid': { 'zh-CN': '请输入 1 到 {max} 之间的整数。', en: 'Enter a whole number from 1 to {max}.' },
  'redeem.no_user': { 'zh-CN': '请先登录年票系统，再为顾客扣次。', en: 'Please log in to CineCard before redeeming a card.' },
  'redeem.no_permission': { 'zh-CN': '您没有扣次权限，请联系经理。', en: 'You are not allowed to redeem cards. Please ask a manager.' },
  'redeem.writing': { 'zh-CN': '正在写卡，请勿拿开卡片……', en: 'Writing the card. Keep it on the reader…' },
  'redeem.done': { 'zh-CN': '扣次成功：本次扣 {uses} 次，剩余 {remaining} 次。', en: 'Done: {uses} used, {remaining} left.' },
  'redeem.done_last': {
    'zh-CN': '此卡次数已全部用完，已记入待回收名单，请收回卡片。',
    en: 'This card has no uses left and is now on the recycling list. Please keep the card.',
  },
  'redeem.tender_applied': { 'zh-CN': '已作为支付计入本单。', en: 'Applied to the sale as payment.' },
  'redeem.tender_none': { 'zh-CN': '没有进行中的销售单，本次扣次未计入任何单据。', en: 'No sale is in progress; this deduction was not applied to a sale.' },
  'redeem.tender_refused': {
    'zh-CN': '收银系统未接受此支付（{reason}）。次数已扣，如需退回请联系经理。',
    en: 'The till did not accept this payment ({reason}). The uses were deducted; ask a manager to reverse them.',
  },
  'redeem.remove_card': { 'zh-CN': '请拿开卡片。', en: 'Please take the card away.' },
  'redeem.write_unconfirmed': {
    'zh-CN': '写卡没有完成确认。请把卡片放回读卡器，系统会自动核对：不会重复扣次。',
    en: 'The card write was not confirmed. Put the card back on the reader to check it; it will never be charged twice.',
  },
  'redeem.failed': { 'zh-CN': '扣次失败，卡上次数未变，请重试。', en: 'The deduction failed; the card was not charged. Please try again.' },
  'redeem.recovered_landed': {
    'zh-CN': '上次未确认的扣次已核实写入卡片：扣 {uses} 次，已记账。',
    en: 'The last unconfirmed deduction is on the card: {uses} used, now recorded.',
  },
  'redeem.recovered_not_landed': {
    'zh-CN': '上次扣次没有写入卡片，未扣任何次数。',
    en: 'The last deduction did not reach the card; nothing was deducted.',
  },
  'redeem.recovered_undetermined': {
    'zh-CN': '无法从卡片确认上次扣次是否成功，本机未记账，请联系经理核对。',
    en: 'The card does not show whether the last deduction succeeded; it was not recorded here. Please ask a manager to check.',
  },
  'redeem.pending_other_card': {
    'zh-CN': '此卡与未完成的写卡记录不符（可能是复制卡），请交由经理处理。',
    en: 'This card does not match its unfinished write (it may be a copy). Please refer it to a manager.',
  },

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

  // Management screens (plugin/screens/): shared words.
  'screen.close': { 'zh-CN': '关闭', en: 'Close' },
  'screen.cancel': { 'zh-CN': '取消', en: 'Cancel' },
  'screen.tap_card': { 'zh-CN': '请把卡片放到读卡器上。', en: 'Please place the card on the reader.' },
  'screen.waiting_for_card': { 'zh-CN': '等待卡片……', en: 'Waiting for the card…' },
  'screen.card_no': { 'zh-CN': '卡号', en: 'Card number' },
  'screen.card_no_invalid': { 'zh-CN': '卡号应为 4 到 20 位数字。', en: 'A card number has 4 to 20 digits.' },
  'screen.expiry': { 'zh-CN': '有效期至', en: 'Valid until' },
  'screen.expiry_new': { 'zh-CN': '新的有效期至', en: 'New expiry date' },
  'screen.expiry_invalid': { 'zh-CN': '请选择有效的日期。', en: 'Please choose a valid date.' },
  'screen.expiry_past': { 'zh-CN': '有效期不能早于今天。', en: 'The expiry date cannot be in the past.' },
  'screen.uses_to_load': { 'zh-CN': '充值次数', en: 'Uses to load' },
  'screen.uses_invalid': { 'zh-CN': '请输入 1 到 {max} 之间的整数。', en: 'Enter a whole number from 1 to {max}.' },
  'screen.write_failed': { 'zh-CN': '写卡失败，卡片未改变，请重试。', en: 'Writing the card failed; the card is unchanged. Please try again.' },
  'screen.write_unconfirmed': {
    'zh-CN': '写卡没有完成确认。请把卡片重新放回读卡器，系统会自动核对，不会重复记账。',
    en: 'The card write was not confirmed. Put the card back on the reader to check it; nothing is recorded twice.',
  },
  'screen.earlier_write_landed': { 'zh-CN': '此卡上次未确认的写卡已核实并记账。', en: "This card's last unconfirmed write is on the card and is now recorded." },
  'screen.earlier_write_dropped': { 'zh-CN': '此卡上次写卡没有完成，已作废，卡上数据未变。', en: "This card's last write did not finish and was dropped; the card is unchanged." },
  'screen.sent_to_central': { 'zh-CN': '已同步到总部。', en: 'Sent to headquarters.' },
  'screen.sync.title': { 'zh-CN': '数据同步', en: 'Sync' },
  'screen.sync.online': { 'zh-CN': '已连接总部，记录自动上传。', en: 'Connected to headquarters; records upload automatically.' },
  'screen.sync.offline': { 'zh-CN': '总部暂时连不上：本机照常售卡和消费，记录联网后自动上传。', en: 'Headquarters cannot be reached: this till goes on selling and redeeming; records upload once online.' },
  'screen.sync.local_only': { 'zh-CN': '本机未配置总部，记录仅保存在本机。', en: 'No headquarters is configured; records stay on this till.' },
  'screen.sync.pending': { 'zh-CN': '待上传记录：{count} 笔', en: 'Records waiting to upload: {count}' },
  'screen.sync.last_success': { 'zh-CN': '最近一次同步：{at}', en: 'Last synced: {at}' },
  'screen.sync.never': { 'zh-CN': '尚未同步', en: 'never' },
  'screen.sync.now': { 'zh-CN': '立即同步', en: 'Sync now' },
  'screen.sync.done': { 'zh-CN': '同步完成。', en: 'Synced.' },
  'screen.sync.failed': { 'zh-CN': '同步失败：总部暂时连不上，稍后会自动重试。', en: 'Could not sync: headquarters cannot be reached; it will retry by itself.' },
  'screen.recorded_syncing': { 'zh-CN': '已记录，正在上传总部。', en: 'Recorded; uploading to headquarters.' },
  'screen.queued_offline': { 'zh-CN': '总部暂时连不上，记录已保存在本机，联网后自动上传。', en: 'Headquarters cannot be reached; the record is kept here and uploaded once online.' },
  'screen.central_refused': { 'zh-CN': '总部未接受：{message}', en: 'Headquarters did not accept it: {message}' },

  // Roles, as the users screen names them.
  'role.admin': { 'zh-CN': '系统管理员', en: 'Administrator' },
  'role.operator': { 'zh-CN': '操作员', en: 'Operator' },
  'role.statistician': { 'zh-CN': '统计人员', en: 'Statistician' },
  'role.manager': { 'zh-CN': '影院经理', en: 'Cinema manager' },
  'role.local_statistician': { 'zh-CN': '本地统计', en: 'Local statistician' },
  'role.customer_query': { 'zh-CN': '顾客查询', en: 'Customer query' },
  'role.salesperson': { 'zh-CN': '销售员', en: 'Salesperson' },

  // Sell (activate), renew, re-issue, top up.
  'screen.sell.title': { 'zh-CN': '售卡（激活）', en: 'Sell (activate) a card' },
  'screen.sell.confirm': { 'zh-CN': '确认售卡', en: 'Sell card' },
  'screen.sell.done': { 'zh-CN': '售卡成功：卡号 {cardNo}，有效期至 {date}，可用 {remaining} 次。', en: 'Sold: card {cardNo}, valid until {date}, {remaining} uses.' },
  'screen.sell.not_made': { 'zh-CN': '此卡不能出售：卡片状态为“{status}”，只有未激活的新卡可以售出。', en: 'This card cannot be sold: its status is "{status}"; only new, not yet activated cards can be sold.' },
  'screen.renew.title': { 'zh-CN': '续期', en: 'Renew a card' },
  'screen.renew.confirm': { 'zh-CN': '确认续期', en: 'Renew' },
  'screen.renew.current': { 'zh-CN': '当前有效期至：{date}', en: 'Currently valid until: {date}' },
  'screen.renew.done': { 'zh-CN': '续期成功：卡号 {cardNo}，有效期至 {date}。', en: 'Renewed: card {cardNo} is valid until {date}.' },
  'screen.renew.not_active': { 'zh-CN': '此卡不能续期：卡片状态为“{status}”。', en: 'This card cannot be renewed: its status is "{status}".' },
  'screen.reissue.title': { 'zh-CN': '旧卡重新发卡', en: 'Re-issue a recycled card' },
  'screen.reissue.confirm': { 'zh-CN': '确认发卡', en: 'Re-issue' },
  'screen.reissue.done': { 'zh-CN': '重新发卡成功：卡号 {cardNo}，充值 {uses} 次，有效期至 {date}。', en: 'Re-issued: card {cardNo} with {uses} uses, valid until {date}.' },
  'screen.reissue.not_recycled': {
    'zh-CN': '此卡不能重新发卡：状态“{status}”，剩余 {remaining} 次。只有已回收或次数用完的卡可以重新发卡。',
    en: 'This card cannot be re-issued: status "{status}", {remaining} uses left. Only recycled or used-up cards can be re-issued.',
  },
  'screen.reissue.history_note': {
    'zh-CN': '卡号不变；新顾客的消费明细从本次发卡开始计算。',
    en: "The card number stays; the new holder's history starts with this issue.",
  },
  'screen.top_up.title': { 'zh-CN': '充值', en: 'Top up a card' },
  'screen.top_up.confirm': { 'zh-CN': '确认充值', en: 'Top up' },
  'screen.top_up.done': { 'zh-CN': '充值成功：卡号 {cardNo}，充值 {uses} 次，剩余 {remaining} 次。', en: 'Topped up: card {cardNo}, {uses} uses loaded, {remaining} left.' },

  // Blacklist.
  'screen.blacklist.title': { 'zh-CN': '黑名单管理', en: 'Blacklist' },
  'screen.blacklist.reason': { 'zh-CN': '原因', en: 'Reason' },
  'screen.blacklist.listed_at': { 'zh-CN': '列入时间', en: 'Listed at' },
  'screen.blacklist.add': { 'zh-CN': '列入黑名单', en: 'Blacklist' },
  'screen.blacklist.remove': { 'zh-CN': '移出黑名单', en: 'Remove from blacklist' },
  'screen.blacklist.empty': { 'zh-CN': '黑名单为空。', en: 'The blacklist is empty.' },
  'screen.blacklist.reason_required': { 'zh-CN': '请填写列入黑名单的原因。', en: 'Please give a reason for blacklisting.' },
  'screen.blacklist.already': { 'zh-CN': '卡号 {cardNo} 已在黑名单中。', en: 'Card {cardNo} is already blacklisted.' },
  'screen.blacklist.not_listed': { 'zh-CN': '卡号 {cardNo} 不在黑名单中。', en: 'Card {cardNo} is not on the blacklist.' },
  'screen.blacklist.added': { 'zh-CN': '卡号 {cardNo} 已列入黑名单，本机立即拒绝此卡。{central}', en: 'Card {cardNo} is blacklisted; this till refuses it from now on. {central}' },
  'screen.blacklist.removed': { 'zh-CN': '卡号 {cardNo} 已移出黑名单，可以恢复使用。{central}', en: 'Card {cardNo} is off the blacklist and can be used again. {central}' },
  'screen.blacklist.removed_reason': { 'zh-CN': '经理移出黑名单', en: 'Removed by a manager' },

  // Cards to recycle today.
  'screen.recycle.title': { 'zh-CN': '今日待回收卡', en: 'Cards to recycle today' },
  'screen.recycle.today': { 'zh-CN': '{date} 本影城应回收 {count} 张卡。', en: '{date}: {count} cards to collect at this cinema.' },
  'screen.recycle.local_note': {
    'zh-CN': '总部暂时连不上：按本机记录统计（次数在本机用完的卡），可能不完整。',
    en: 'Headquarters cannot be reached: from this till’s own records (cards whose last use was taken here); may be incomplete.',
  },
  'screen.recycle.from_central': { 'zh-CN': '数据来自总部：本影城所有终端今天回收的卡。', en: 'From headquarters: the cards collected at every till of this cinema today.' },
  'screen.recycle.reason': { 'zh-CN': '原因', en: 'Reason' },
  'screen.recycle.reason.exhausted': { 'zh-CN': '次数用完', en: 'Used up' },
  'screen.recycle.reason.returned': { 'zh-CN': '顾客交回', en: 'Handed back' },
  'screen.recycle.at': { 'zh-CN': '时间', en: 'Time' },
  'screen.recycle.empty': { 'zh-CN': '今天没有待回收的卡。', en: 'No cards to collect today.' },

  // A card's history.
  'screen.history.title': { 'zh-CN': '顾客消费明细查询', en: "A card's history" },
  'screen.history.tap': { 'zh-CN': '请顾客把卡片放到读卡器上。', en: 'Ask the customer to place the card on the reader.' },
  'screen.history.from_central': { 'zh-CN': '数据来自总部（全部影城），从本次发卡起。', en: 'From headquarters (every cinema), since the latest issue.' },
  'screen.history.from_local': {
    'zh-CN': '总部暂时连不上：以下仅为本机记录，可能不完整。',
    en: 'Headquarters cannot be reached: these are this till’s own records only and may be incomplete.',
  },
  'screen.history.at': { 'zh-CN': '消费时间', en: 'Time' },
  'screen.history.place': { 'zh-CN': '消费地点', en: 'Place' },
  'screen.history.kind': { 'zh-CN': '类型', en: 'Kind' },
  'screen.history.uses': { 'zh-CN': '次数', en: 'Uses' },
  'screen.history.remaining': { 'zh-CN': '剩余次数', en: 'Uses left' },
  'screen.history.empty': { 'zh-CN': '没有记录。', en: 'No records.' },
  'screen.history.this_cinema': { 'zh-CN': '本影城', en: 'This cinema' },
  'screen.history.kind.redeem': { 'zh-CN': '兑换', en: 'Redemption' },
  'screen.history.kind.top_up': { 'zh-CN': '充值', en: 'Top-up' },
  'screen.history.kind.activate': { 'zh-CN': '售卡', en: 'Sale' },
  'screen.history.kind.renew': { 'zh-CN': '续期', en: 'Renewal' },
  'screen.history.kind.recycle': { 'zh-CN': '回收', en: 'Recycled' },
  'screen.history.kind.reissue': { 'zh-CN': '重新发卡', en: 'Re-issue' },
  'screen.history.kind.blacklist': { 'zh-CN': '列入黑名单', en: 'Blacklisted' },
  'screen.history.kind.unblacklist': { 'zh-CN': '移出黑名单', en: 'Unblacklisted' },
  'screen.history.kind.rebuild': { 'zh-CN': '按卡重建', en: 'Rebuilt from the card' },

  // Log in / out, users, rules.
  'screen.login.title': { 'zh-CN': '登录 / 退出', en: 'Log in / out' },
  'screen.login.username': { 'zh-CN': '用户名', en: 'User name' },
  'screen.login.password': { 'zh-CN': '密码', en: 'Password' },
  'screen.login.login': { 'zh-CN': '登录', en: 'Log in' },
  'screen.login.logout': { 'zh-CN': '退出登录', en: 'Log out' },
  'screen.login.as': { 'zh-CN': '当前用户：{name}', en: 'Logged in as {name}' },
  'screen.login.welcome': { 'zh-CN': '{name}，您已登录。', en: '{name}, you are logged in.' },
  'screen.login.wrong': { 'zh-CN': '用户名或密码不正确。', en: 'The user name or password is wrong.' },
  'screen.login.logged_out': { 'zh-CN': '已退出登录。', en: 'You are logged out.' },
  'screen.users.title': { 'zh-CN': '本地用户与角色', en: 'Local users and roles' },
  'screen.users.username': { 'zh-CN': '用户名', en: 'User name' },
  'screen.users.name': { 'zh-CN': '姓名', en: 'Name' },
  'screen.users.password': { 'zh-CN': '密码（新用户）', en: 'Password (new user)' },
  'screen.users.host_operator': { 'zh-CN': '收银系统工号', en: 'POS operator id' },
  'screen.users.role': { 'zh-CN': '角色', en: 'Role' },
  'screen.users.roles': { 'zh-CN': '角色', en: 'Roles' },
  'screen.users.state': { 'zh-CN': '状态', en: 'State' },
  'screen.users.enabled': { 'zh-CN': '启用', en: 'Enabled' },
  'screen.users.disabled': { 'zh-CN': '停用', en: 'Disabled' },
  'screen.users.empty': { 'zh-CN': '没有本地用户。', en: 'No local users.' },
  'screen.users.save': { 'zh-CN': '保存（新建或改角色）', en: 'Save (create or set role)' },
  'screen.users.disable': { 'zh-CN': '停用', en: 'Disable' },
  'screen.users.enable': { 'zh-CN': '启用', en: 'Enable' },
  'screen.users.username_invalid': { 'zh-CN': '用户名应为 2 到 64 个字母、数字或 . _ @ -。', en: 'A user name has 2 to 64 letters, digits or . _ @ -.' },
  'screen.users.unknown': { 'zh-CN': '没有用户 {username}。', en: 'There is no user {username}.' },
  'screen.users.not_yourself': { 'zh-CN': '不能停用或启用自己的账号。', en: 'You cannot disable or enable your own account.' },
  'screen.users.role_invalid': { 'zh-CN': '请选择一个影院角色。', en: 'Please choose a cinema role.' },
  'screen.users.password_short': { 'zh-CN': '新用户的密码至少 8 位。', en: "A new user's password needs at least 8 characters." },
  'screen.users.created': { 'zh-CN': '已新建用户 {username}（{role}）。', en: 'User {username} created ({role}).' },
  'screen.users.roles_set': { 'zh-CN': '用户 {username} 的角色已改为 {role}。', en: "{username}'s role is now {role}." },
  'screen.users.disabled_done': { 'zh-CN': '用户 {username} 已停用。', en: 'User {username} is disabled.' },
  'screen.users.enabled_done': { 'zh-CN': '用户 {username} 已启用。', en: 'User {username} is enabled.' },
  'screen.rules.title': { 'zh-CN': '兑换规则', en: 'Redemption rules' },
  'screen.rules.name': { 'zh-CN': '规则名称', en: 'Rule name' },
  'screen.rules.film': { 'zh-CN': '影片', en: 'Film' },
  'screen.rules.format': { 'zh-CN': '制式', en: 'Format' },
  'screen.rules.day_part': { 'zh-CN': '时段', en: 'Day part' },
  'screen.rules.from': { 'zh-CN': '时段开始（HH:MM）', en: 'Day part from (HH:MM)' },
  'screen.rules.to': { 'zh-CN': '时段结束（HH:MM）', en: 'Day part to (HH:MM)' },
  'screen.rules.uses_per_ticket': { 'zh-CN': '每张影票次数', en: 'Uses per ticket' },
  'screen.rules.value_per_use': { 'zh-CN': '每次抵扣（元）', en: 'Value per use (yuan)' },
  'screen.rules.value_per_use_fen': { 'zh-CN': '每次抵扣（分）', en: 'Value per use (fen)' },
  'screen.rules.priority': { 'zh-CN': '优先级', en: 'Priority' },
  'screen.rules.any': { 'zh-CN': '不限', en: 'Any' },
  'screen.rules.empty': { 'zh-CN': '还没有兑换规则：每张影票按 1 次预填。', en: 'No redemption rules yet: one use per ticket is pre-filled.' },
  'screen.rules.save': { 'zh-CN': '保存规则', en: 'Save rule' },
  'screen.rules.delete': { 'zh-CN': '删除规则', en: 'Delete rule' },
  'screen.rules.name_required': { 'zh-CN': '请填写规则名称。', en: 'Please give the rule a name.' },
  'screen.rules.unknown': { 'zh-CN': '没有名为“{name}”的规则。', en: 'There is no rule named "{name}".' },
  'screen.rules.day_part_invalid': { 'zh-CN': '时段请按 HH:MM 填写开始和结束时间。', en: 'Give the day part as HH:MM from and to.' },
  'screen.rules.uses_invalid': { 'zh-CN': '影票规则需要每张影票的次数（至少 1）。', en: 'A ticket rule needs uses per ticket (at least 1).' },
  'screen.rules.value_invalid': { 'zh-CN': '卖品规则需要每次抵扣金额（分，至少 1）。', en: 'A concession rule needs a value per use (fen, at least 1).' },
  'screen.rules.saved': { 'zh-CN': '规则“{name}”已保存。{central}', en: 'Rule "{name}" saved. {central}' },
  'screen.rules.deleted': { 'zh-CN': '规则“{name}”已删除。{central}', en: 'Rule "{name}" deleted. {central}' },
  'screen.rules.local_only': { 'zh-CN': '总部暂时连不上，仅保存在本机。', en: 'Headquarters cannot be reached; saved on this till only.' },
  'screen.rules.central_refused': { 'zh-CN': '总部未接受此规则，仅保存在本机。', en: 'Headquarters did not accept the rule; saved on this till only.' },

  // HQ station: make cards, change type.
  'screen.make.title': { 'zh-CN': '批量制卡', en: 'Make cards' },
  'screen.make.type': { 'zh-CN': '卡类型', en: 'Card type' },
  'screen.make.count': { 'zh-CN': '张数', en: 'Number of cards' },
  'screen.make.first_no': { 'zh-CN': '起始卡号', en: 'First card number' },
  'screen.make.start': { 'zh-CN': '开始制卡', en: 'Start making' },
  'screen.make.stop': { 'zh-CN': '停止', en: 'Stop' },
  'screen.make.offline': { 'zh-CN': '总部暂时连不上：使用本机保存的卡类型，批次稍后登记。', en: 'Headquarters cannot be reached: using the card types kept here; the batch is registered later.' },
  'screen.make.no_types': { 'zh-CN': '没有可用的卡类型，请先在总部设置卡类型。', en: 'There are no card types. Please set them up at headquarters first.' },
  'screen.make.type_required': { 'zh-CN': '请选择卡类型。', en: 'Please choose a card type.' },
  'screen.make.count_invalid': { 'zh-CN': '张数应为 1 到 1000。', en: 'Make 1 to 1000 cards at a time.' },
  'screen.make.tap_blank': { 'zh-CN': '请放第 {n} / {count} 张空白卡（卡号 {cardNo}）。', en: 'Place blank card {n} of {count} (number {cardNo}).' },
  'screen.make.progress': { 'zh-CN': '已制 {done} / {count} 张', en: '{done} of {count} made' },
  'screen.make.card_done': { 'zh-CN': '卡号 {cardNo} 制卡完成，请换下一张。', en: 'Card {cardNo} is made. Next card, please.' },
  'screen.make.not_blank': { 'zh-CN': '这张卡不是空白卡，请换一张。', en: 'This card is not blank. Please use another.' },
  'screen.make.card_failed': { 'zh-CN': '这张卡制卡失败，请重新放卡或换一张。', en: 'Making this card failed. Place it again or use another.' },
  'screen.make.done': { 'zh-CN': '已制卡 {count} 张（卡号 {first} – {last}）。', en: '{count} cards made (numbers {first} to {last}).' },
  'screen.make.registered': { 'zh-CN': '总部已登记 {count} 张卡。', en: 'Headquarters registered {count} cards.' },
  'screen.make.register_later': { 'zh-CN': '总部暂时连不上：批次已保存在本机，下次打开制卡时自动登记。', en: 'Headquarters cannot be reached: the batch is kept here and registered the next time this screen opens.' },
  'screen.make.register_refused': { 'zh-CN': '总部未登记此批卡：{message}', en: 'Headquarters did not register the batch: {message}' },
  'screen.change_type.title': { 'zh-CN': '回收卡更改卡类型', en: 'Change the type of a recycled card' },
  'screen.change_type.confirm': { 'zh-CN': '确认更改', en: 'Change type' },
  'screen.change_type.not_recycled': { 'zh-CN': '只有已回收的卡可以更改卡类型。', en: 'Only recycled cards can change type.' },
  'screen.change_type.needs_central': { 'zh-CN': '更改卡类型需要连接总部，请联网后再试。', en: 'Changing a card type needs headquarters. Please try again when online.' },
  'screen.change_type.done': { 'zh-CN': '卡号 {cardNo} 的卡类型已改为 {type}。', en: 'Card {cardNo} is now of type {type}.' },
} as const satisfies Record<string, Entry>;

export type MessageKey = keyof typeof messages;
export type MessageParams = Readonly<Record<string, string | number>>;

export const DEFAULT_LOCALE: Locale = 'zh-CN';

/** The message for `key` in `locale`, with `{name}` placeholders filled from `params`. */
export function translate(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const entry: Entry = messages[key];
  return entry[locale].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

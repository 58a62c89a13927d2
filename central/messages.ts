import { defineMessages } from './errors.ts';

/** Messages of the platform itself (HTTP, validation, authentication). Modules keep their own. */
export const platformMessages = defineMessages({
  invalid_request: {
    type: 'invalid_data',
    en: 'The request is not valid: {summary}.',
    'zh-CN': '请求无效：{summary}。',
  },
  malformed_body: {
    type: 'invalid_data',
    en: 'The request body could not be read: {reason}. Send a JSON object.',
    'zh-CN': '无法读取请求体：{reason}。请发送 JSON 对象。',
  },
  bad_request: {
    type: 'invalid_data',
    en: 'The request could not be understood: {reason}.',
    'zh-CN': '无法理解该请求：{reason}。',
  },
  body_too_large: {
    type: 'payload_too_large',
    en: 'The request body is larger than the {limit} bytes this service accepts.',
    'zh-CN': '请求体超过本服务接受的 {limit} 字节。',
  },
  unsupported_media_type: {
    type: 'unsupported_media_type',
    en: 'The request body must be JSON (Content-Type: application/json), not {contentType}.',
    'zh-CN': '请求体必须是 JSON（Content-Type: application/json），而不是 {contentType}。',
  },
  route_not_found: {
    type: 'not_found',
    en: 'There is no operation {method} {url}.',
    'zh-CN': '不存在操作 {method} {url}。',
  },
  token_missing: {
    type: 'unauthorized',
    en: 'This operation needs an access token: send "Authorization: Bearer <token>".',
    'zh-CN': '此操作需要访问令牌：请发送 "Authorization: Bearer <令牌>"。',
  },
  token_invalid: {
    type: 'unauthorized',
    en: 'The access token is not valid or has expired; log in again.',
    'zh-CN': '访问令牌无效或已过期，请重新登录。',
  },
  principal_gone: {
    type: 'unauthorized',
    en: 'The account or terminal of this token is disabled or revoked; log in again.',
    'zh-CN': '此令牌对应的账户或终端已被停用或吊销，请重新登录。',
  },
  permission_denied: {
    type: 'forbidden',
    en: 'Your roles do not allow this operation (it needs the permission "{permission}").',
    'zh-CN': '您的角色无权执行此操作（需要权限“{permission}”）。',
  },
  cinema_out_of_scope: {
    type: 'forbidden',
    en: 'You may act only for your own cinema, not for cinema {cinemaId}.',
    'zh-CN': '您只能为本影院操作，不能为影院 {cinemaId} 操作。',
  },
  rate_limited: {
    type: 'rate_limited',
    en: 'Too many attempts; try again in {after}.',
    'zh-CN': '尝试次数过多，请在 {after} 后重试。',
  },
  database_unavailable: {
    type: 'unavailable',
    en: 'The database does not answer; try again shortly.',
    'zh-CN': '数据库无响应，请稍后重试。',
  },
  conflict_unique: {
    type: 'conflict',
    en: 'This would duplicate an existing record ({what}).',
    'zh-CN': '这会与已有记录重复（{what}）。',
  },
  internal: {
    type: 'internal',
    en: 'The service failed unexpectedly; the failure is logged with request id {requestId}.',
    'zh-CN': '服务意外出错，已记录，请求编号 {requestId}。',
  },
});

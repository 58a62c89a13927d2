import { defineMessages } from '../errors.ts';

/** Messages of the metrics endpoint. */
export const metricsMessages = defineMessages({
  metrics_token_required: {
    type: 'unauthorized',
    en: 'Metrics need the metrics token: send "Authorization: Bearer <metrics.token>".',
    'zh-CN': '读取监控指标需要指标令牌：请发送 "Authorization: Bearer <metrics.token>"。',
  },
  metrics_local_only: {
    type: 'forbidden',
    en: 'Without a metrics token, metrics are served only to this machine; set metrics.token to scrape from elsewhere.',
    'zh-CN': '未设置指标令牌时，监控指标只对本机开放；如需从其他机器采集，请设置 metrics.token。',
  },
});

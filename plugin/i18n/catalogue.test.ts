import assert from 'node:assert/strict';
import { messages, translate, type MessageKey } from './catalogue.ts';

describe('plugin message catalogue', () => {
  it('has every message in zh-CN and en, non-empty, with the same placeholders', () => {
    for (const [key, entry] of Object.entries(messages)) {
      const zh = entry['zh-CN'], en = entry.en;
      assert.ok(zh.trim() && en.trim(), `${key} is empty in a language`);
      const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      assert.deepEqual(holes(zh), holes(en), `${key} has different placeholders`);
      assert.match(zh, /[\u4e00-\u9fff]/, `${key} has no Chinese text in zh-CN`);
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    assert.equal(translate('zh-CN', 'card.expired', { date: '2027-11-25' }), '此卡已于 2027-11-25 过期，请办理续期。');
    assert.equal(translate('en', 'card.expired'), 'This card expired on {date}. Please renew it.');
    assert.equal(translate('en', 'card.unreadable' satisfies MessageKey), 'This card cannot be read. Please place it on the reader again.');
  });
});

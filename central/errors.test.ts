import assert from 'node:assert/strict';
import { CentralError, defineMessages, definedMessages, errorTypes, formatMessage } from './errors.ts';
import { httpStatusOf } from './http/error-handler.ts';
import './modules.ts'; // loads every module's catalogue

describe('central message catalogue', () => {
  const messages = definedMessages();
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  it('has every message in en and zh-CN, non-empty, with the same placeholders', () => {
    assert.ok(messages.length > 20);
    for (const m of messages) {
      assert.ok(m.en.trim().length > 0 && m['zh-CN'].trim().length > 0, m.code);
      assert.deepEqual(placeholders(m['zh-CN']), placeholders(m.en), `${m.code}: placeholders differ`);
      assert.match(m.code, /^[a-z][a-z0-9_]*$/, `${m.code} is snake_case`);
    }
  });

  it('never gives one code two meanings across modules', () => {
    const byCode = new Map<string, string>();
    for (const m of messages) {
      const meaning = `${m.type}|${m.en}`;
      assert.ok(!byCode.has(m.code) || byCode.get(m.code) === meaning, `code ${m.code} is defined twice differently`);
      byCode.set(m.code, meaning);
    }
  });

  it('maps every error type to one HTTP status', () => {
    for (const type of errorTypes) assert.ok(httpStatusOf[type] >= 400, type);
    assert.equal(new Set(Object.values(httpStatusOf)).size, errorTypes.length);
  });

  it('fills placeholders in the chosen language and leaves unknown ones visible', () => {
    const { sample } = defineMessages({ sample: { type: 'not_found', en: 'No {thing} {id}.', 'zh-CN': '没有{thing} {id}。' } });
    assert.equal(formatMessage(sample, { thing: 'card' }), 'No card {id}.');
    const error = new CentralError(sample, { thing: 'card', id: 7 });
    assert.equal(error.message, 'No card 7.');
    assert.equal(error.localized('zh-CN'), '没有card 7。');
    assert.equal(error.type, 'not_found');
    assert.equal(error.code, 'sample');
  });
});

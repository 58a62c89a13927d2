import assert from 'node:assert/strict';
import { parseView, type View } from './host-ui.ts';

describe('HostUi views', () => {
  const popup: View = {
    type: 'dialog',
    id: 'redeem',
    title: '年票兑换',
    dismissible: true,
    children: [
      { type: 'text', text: '卡号 1000 0001', tone: 'strong' },
      { type: 'banner', tone: 'warning', text: '卡片即将到期' },
      {
        type: 'stack',
        direction: 'horizontal',
        children: [
          { type: 'field', id: 'uses', kind: 'number', label: '扣减次数', value: 2, min: 1, max: 8 },
          { type: 'field', id: 'kind', kind: 'select', label: '消费类型', value: 'ticket', options: [{ value: 'ticket', label: '影票' }] },
        ],
      },
      { type: 'table', columns: [{ key: 'film', label: '影片' }], rows: [{ film: '流浪地球' }] },
      { type: 'progress', value: 3, max: 10 },
      { type: 'button', id: 'confirm', label: '确认', variant: 'primary' },
    ],
  };

  it('accepts a view made of the vocabulary, nested stacks included', () => {
    assert.deepEqual(parseView(popup), popup);
  });

  it('rejects an unknown component and names where it is', () => {
    const bad = { ...popup, children: [{ type: 'stack', children: [{ type: 'video', src: 'x' }] }] };
    assert.throws(() => parseView(bad), /children\.0\.children\.0/);
  });

  it('rejects a field without an id and a progress with max 0', () => {
    assert.throws(() => parseView({ ...popup, children: [{ type: 'field', kind: 'text', label: 'x' }] }), /id/);
    assert.throws(() => parseView({ ...popup, children: [{ type: 'progress', value: 0, max: 0 }] }), /max/);
  });
});

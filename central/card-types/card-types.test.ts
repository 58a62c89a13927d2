import assert from 'node:assert/strict';
import type { Schemas } from '../client/index.ts';
import { makeCardType } from '../cards/card-fixtures.ts';
import { chainToday, nextDay } from '../reports/chain-calendar.ts';
import { describeCentral, ok } from '../test-support/harness.ts';

describeCentral('card types API', (central) => {
  it('creates, lists, gets and updates a card type; validity defaults to 365 days', async () => {
    const operator = await central().loginAs('operator');
    const created = ok(
      await operator.client.POST('/v1/card-types', {
        body: { name: 'Family 12', usesPerCard: 12, settlementPricePerUseFen: 2500, concessionValuePerUseFen: 1000 },
      }),
    );
    assert.equal(created.validityDays, 365);
    assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const updated = ok(
      await operator.client.PATCH('/v1/card-types/{cardTypeId}', {
        params: { path: { cardTypeId: created.id } },
        body: { settlementPricePerUseFen: 2600, validityDays: 180 },
      }),
    );
    assert.equal(updated.settlementPricePerUseFen, 2600);
    assert.equal(updated.validityDays, 180);
    assert.equal(updated.usesPerCard, 12);
    // every principal reads card types, a terminal included
    const cinema = await central().createCinema();
    const till = await central().enrolTerminal(cinema.id);
    const listed = ok(await till.client.GET('/v1/card-types'));
    assert.ok(listed.items.some((t) => t.id === created.id));
    assert.deepEqual(ok(await till.client.GET('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: created.id } } })), updated);
    const audit = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'card_type.update' } } }));
    assert.equal(audit.items[0]?.targetId, created.id);
  });

  it('refuses fewer uses than the minimum of 10, a duplicate name, and an unknown id', async () => {
    const { client } = central().admin;
    const few = await client.POST('/v1/card-types', {
      body: { name: 'Too few', usesPerCard: 9, settlementPricePerUseFen: 1, concessionValuePerUseFen: 1 },
    });
    assert.equal(few.response.status, 400);
    assert.equal(few.error?.code, 'uses_below_minimum');
    assert.match(few.error?.message ?? '', /at least 10/);
    ok(await client.POST('/v1/card-types', { body: { name: 'Twin', usesPerCard: 10, settlementPricePerUseFen: 1, concessionValuePerUseFen: 1 } }));
    const twin = await client.POST('/v1/card-types', { body: { name: 'Twin', usesPerCard: 10, settlementPricePerUseFen: 1, concessionValuePerUseFen: 1 } });
    assert.equal(twin.response.status, 409);
    assert.equal(twin.error?.code, 'card_type_name_taken');
    const missing = await client.PATCH('/v1/card-types/{cardTypeId}', {
      params: { path: { cardTypeId: '01900000-0000-7000-8000-000000000000' } },
      body: { name: 'x' },
    });
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error?.code, 'card_type_not_found');
    const lowered = await client.PATCH('/v1/card-types/{cardTypeId}', {
      params: { path: { cardTypeId: ok(await client.GET('/v1/card-types')).items[0]!.id } },
      body: { usesPerCard: 5 },
    });
    assert.equal(lowered.response.status, 400);
  });

  it('refuses a fractional or negative price with 400 naming the field', async () => {
    const { error, response } = await central().admin.client.POST('/v1/card-types', {
      body: { name: 'Bad', usesPerCard: 10, settlementPricePerUseFen: 12.5, concessionValuePerUseFen: -1 },
    });
    assert.equal(response.status, 400);
    assert.deepEqual(error?.fields?.map((f) => f.path).sort(), ['body.concessionValuePerUseFen', 'body.settlementPricePerUseFen']);
  });
});

describeCentral('card type prices over time', (central) => {
  const history = async (cardTypeId: string) =>
    ok(await central().admin.client.GET('/v1/card-types/{cardTypeId}/prices', { params: { path: { cardTypeId } } })).items.map((p) => [p.effectiveFrom, p.settlementPricePerUseFen, p.salePriceFen]);
  const patch = (cardTypeId: string, body: Schemas['CardTypeUpdate'], headers: Record<string, string> = {}) =>
    central().admin.client.PATCH('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId } }, body, headers });
  const today = () => chainToday(new Date(), 'Asia/Shanghai');

  it('a new type has one price row, from the beginning; any principal reads the history; an unknown type is 404', async () => {
    const type = await makeCardType(central(), { settlementPricePerUseFen: 3000, salePriceFen: 28000 });
    assert.deepEqual(await history(type.id), [[null, 3000, 28000]]);
    const till = await central().enrolTerminal((await central().createCinema()).id);
    const read = ok(await till.client.GET('/v1/card-types/{cardTypeId}/prices', { params: { path: { cardTypeId: type.id } } }));
    assert.equal(read.items[0]!.changedAt, type.createdAt);
    const missing = await central().admin.client.GET('/v1/card-types/{cardTypeId}/prices', { params: { path: { cardTypeId: '01900000-0000-7000-8000-000000000000' } } });
    assert.deepEqual([missing.response.status, missing.error?.code], [404, 'card_type_not_found']);
  });

  it('a price change takes effect today by default: a second row, and the type shows the new price; the same day again replaces the row', async () => {
    const type = await makeCardType(central(), { settlementPricePerUseFen: 3000 });
    const changed = ok(await patch(type.id, { settlementPricePerUseFen: 3300 }));
    assert.deepEqual([changed.settlementPricePerUseFen, changed.salePriceFen], [3300, null]);
    assert.deepEqual(await history(type.id), [[null, 3000, null], [today(), 3300, null]]);
    // Only the sale price named: the settlement price in force today stays.
    const again = ok(await patch(type.id, { salePriceFen: 30000, pricesEffectiveFrom: today() }));
    assert.deepEqual([again.settlementPricePerUseFen, again.salePriceFen], [3300, 30000]);
    assert.deepEqual(await history(type.id), [[null, 3000, null], [today(), 3300, 30000]]);
    // Changes that touch no price add no row.
    ok(await patch(type.id, { name: central().unique('Renamed '), validityDays: 200 }));
    assert.equal((await history(type.id)).length, 2);
  });

  it('a backdated change goes in between the rows, up to the next change; the type keeps its latest prices', async () => {
    const type = await makeCardType(central(), { settlementPricePerUseFen: 3000 });
    ok(await patch(type.id, { settlementPricePerUseFen: 3300, salePriceFen: 30000 }));
    const backdated = ok(await patch(type.id, { settlementPricePerUseFen: 3100, pricesEffectiveFrom: '2025-01-10' }));
    assert.deepEqual([backdated.settlementPricePerUseFen, backdated.salePriceFen], [3300, 30000], 'today\'s prices are still the latest change\'s');
    // The sale price not named keeps the value in force on 10 January: none.
    assert.deepEqual(await history(type.id), [[null, 3000, null], ['2025-01-10', 3100, null], [today(), 3300, 30000]]);
    ok(await patch(type.id, { salePriceFen: 25000, pricesEffectiveFrom: '2025-02-01' }));
    assert.deepEqual(await history(type.id), [[null, 3000, null], ['2025-01-10', 3100, null], ['2025-02-01', 3100, 25000], [today(), 3300, 30000]]);
    // Backdated to the first day there is: the first row itself.
    ok(await patch(type.id, { settlementPricePerUseFen: 2900, pricesEffectiveFrom: '0001-01-01' }));
    assert.deepEqual((await history(type.id))[0], [null, 2900, null]);
    assert.equal((await history(type.id)).length, 4);
  });

  it('refuses a day after today, pricesEffectiveFrom without a price, and a malformed day, changing nothing', async () => {
    const type = await makeCardType(central(), { settlementPricePerUseFen: 3000 });
    const tomorrow = nextDay(today());
    const future = await patch(type.id, { settlementPricePerUseFen: 3500, pricesEffectiveFrom: tomorrow });
    assert.deepEqual([future.response.status, future.error?.code], [400, 'prices_effective_in_future']);
    assert.match(future.error?.message ?? '', new RegExp(`from today \\(${today()}\\) or an earlier day, not from ${tomorrow}`));
    const zh = await patch(type.id, { settlementPricePerUseFen: 3500, pricesEffectiveFrom: tomorrow }, { 'accept-language': 'zh-CN' });
    assert.match(zh.error?.message ?? '', /价格只能从今天/);
    for (const body of [{ pricesEffectiveFrom: '2025-01-10' }, { name: 'No price', pricesEffectiveFrom: '2025-01-10' }]) {
      const alone = await patch(type.id, body);
      assert.deepEqual([alone.response.status, alone.error?.code], [400, 'prices_effective_without_price'], JSON.stringify(body));
    }
    const zhAlone = await patch(type.id, { pricesEffectiveFrom: '2025-01-10' }, { 'accept-language': 'zh-CN' });
    assert.match(zhAlone.error?.message ?? '', /没有设置价格/);
    const malformed = await patch(type.id, { settlementPricePerUseFen: 3500, pricesEffectiveFrom: '2025-02-30' });
    assert.deepEqual([malformed.response.status, malformed.error?.fields?.map((f) => f.path)], [400, ['body.pricesEffectiveFrom']]);
    assert.deepEqual(await history(type.id), [[null, 3000, null]]);
    const unchanged = ok(await central().admin.client.GET('/v1/card-types/{cardTypeId}', { params: { path: { cardTypeId: type.id } } }));
    assert.deepEqual([unchanged.name, unchanged.settlementPricePerUseFen], [type.name, 3000]);
  });

  it('audits a price change with the day it applies from and the prices before and after on that day', async () => {
    const type = await makeCardType(central(), { settlementPricePerUseFen: 3000, salePriceFen: 28000 });
    ok(await patch(type.id, { settlementPricePerUseFen: 3600, pricesEffectiveFrom: '2025-03-01' }));
    const entries = ok(await central().admin.client.GET('/v1/audit-log', { params: { query: { action: 'card_type.update' } } })).items;
    const entry = entries.find((e) => e.targetId === type.id);
    assert.ok(entry, 'the change is audited');
    assert.equal(entry.actorUserId, central().admin.session.user?.id);
    assert.deepEqual(entry.details['changes'], { settlementPricePerUseFen: 3600, pricesEffectiveFrom: '2025-03-01' });
    assert.deepEqual(entry.details['prices'], {
      effectiveFrom: '2025-03-01',
      before: { settlementPricePerUseFen: 3000, salePriceFen: 28000 },
      after: { settlementPricePerUseFen: 3600, salePriceFen: 28000 },
    });
  });
});

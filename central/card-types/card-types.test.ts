import assert from 'node:assert/strict';
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

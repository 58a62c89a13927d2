import assert from 'node:assert/strict';
import { describeCentral, ok } from '../test-support/harness.ts';
import { makeCardType } from '../cards/card-fixtures.ts';

describeCentral('redemption rules API', (central) => {
  it('lets a manager keep its cinema\'s rules and its terminals read them', async () => {
    const c = central();
    const [cinemaA, cinemaB] = [await c.createCinema(), await c.createCinema()];
    const type = await makeCardType(c);
    const manager = await c.loginAs('manager', { cinemaId: cinemaA.id });
    const at = { params: { path: { cinemaId: cinemaA.id } } };
    const imax = ok(
      await manager.client.POST('/v1/cinemas/{cinemaId}/redemption-rules', {
        ...at,
        body: { kind: 'ticket', name: 'IMAX evenings', format: 'IMAX', dayPart: { from: '18:00', to: '23:59' }, usesPerTicket: 2, priority: 10 },
      }),
    );
    assert.deepEqual([imax.kind, imax.usesPerTicket, imax.dayPart, imax.film, imax.cardTypeId], ['ticket', 2, { from: '18:00', to: '23:59' }, null, null]);
    const snacks = ok(
      await manager.client.POST('/v1/cinemas/{cinemaId}/redemption-rules', {
        ...at,
        body: { kind: 'concession', name: 'Snacks', cardTypeId: type.id, valuePerUseFen: 2000 },
      }),
    );
    const till = await c.enrolTerminal(cinemaA.id);
    const read = ok(await till.client.GET('/v1/cinemas/{cinemaId}/redemption-rules', at));
    assert.deepEqual(read.items.map((r) => r.id), [imax.id, snacks.id]);
    const rulePath = { params: { path: { cinemaId: cinemaA.id, ruleId: imax.id } } };
    const changed = ok(await manager.client.PATCH('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', { ...rulePath, body: { dayPart: null, film: 'Dune' } }));
    assert.deepEqual([changed.dayPart, changed.film], [null, 'Dune']);
    const gone = await manager.client.DELETE('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', rulePath);
    assert.equal(gone.response.status, 204);
    const again = await manager.client.DELETE('/v1/cinemas/{cinemaId}/redemption-rules/{ruleId}', rulePath);
    assert.equal(again.response.status, 404);
    // another cinema's terminal neither reads nor writes them
    const tillB = await c.enrolTerminal(cinemaB.id);
    assert.equal((await tillB.client.GET('/v1/cinemas/{cinemaId}/redemption-rules', at)).response.status, 403);
    const audit = ok(await c.admin.client.GET('/v1/audit-log', { params: { query: { cinemaId: cinemaA.id } } }));
    assert.deepEqual(
      audit.items.filter((e) => e.action.startsWith('redemption_rule.')).map((e) => e.action),
      ['redemption_rule.delete', 'redemption_rule.update', 'redemption_rule.create', 'redemption_rule.create'],
    );
  });

  it('refuses rules whose fields do not fit their kind, and unknown card types and cinemas', async () => {
    const c = central();
    const cinema = await c.createCinema();
    const at = { params: { path: { cinemaId: cinema.id } } };
    const { client } = c.admin;
    const noUses = await client.POST('/v1/cinemas/{cinemaId}/redemption-rules', { ...at, body: { kind: 'ticket', name: 'x' } });
    assert.equal(noUses.error?.code, 'rule_incomplete');
    const filmSnack = await client.POST('/v1/cinemas/{cinemaId}/redemption-rules', { ...at, body: { kind: 'concession', name: 'x', valuePerUseFen: 1, film: 'Dune' } });
    assert.equal(filmSnack.error?.code, 'rule_field_not_allowed');
    const empty = await client.POST('/v1/cinemas/{cinemaId}/redemption-rules', {
      ...at,
      body: { kind: 'ticket', name: 'x', usesPerTicket: 1, dayPart: { from: '10:00', to: '10:00' } },
    });
    assert.equal(empty.error?.code, 'day_part_empty');
    const badTime = await client.POST('/v1/cinemas/{cinemaId}/redemption-rules', {
      ...at,
      body: { kind: 'ticket', name: 'x', usesPerTicket: 1, dayPart: { from: '25:00', to: '10:00' } },
    });
    assert.deepEqual(badTime.error?.fields?.map((f) => f.path), ['body.dayPart.from']);
    const unknownType = await client.POST('/v1/cinemas/{cinemaId}/redemption-rules', {
      ...at,
      body: { kind: 'ticket', name: 'x', usesPerTicket: 1, cardTypeId: '01900000-0000-7000-8000-000000000000' },
    });
    assert.equal(unknownType.error?.code, 'card_type_not_found');
    const unknownCinema = await client.GET('/v1/cinemas/{cinemaId}/redemption-rules', { params: { path: { cinemaId: '01900000-0000-7000-8000-000000000000' } } });
    assert.equal(unknownCinema.response.status, 404);
  });
});

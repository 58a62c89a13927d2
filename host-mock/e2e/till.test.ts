/**
 * The reference POS end to end in headless Chromium: central (a child process), the demo chain,
 * both cinemas' tills, a cashier at the browser. Each step leaves a screenshot in
 * artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startDemo, type DemoSystem } from '../demo/demo-system.ts';
import { CardCacheToken } from '../../plugin/tokens.ts';
import { launchChromium, logIn, openTill, shot } from './browser.ts';
import { createCentralClient } from '../../central/client/index.ts';
import { DEMO_ADMIN } from '../demo/demo-chain.ts';

const POPUP = '[data-view-id^="cinecard.redeem."]';

describe('host-mock: the till in Chromium', function () {
  this.timeout(30_000);
  let dataDir: string;
  let demo: DemoSystem;
  let browser: Browser;
  let page: Page;
  let cardNo: string;

  before(async function () {
    this.timeout(90_000);
    dataDir = mkdtempSync(join(tmpdir(), 'cinecard-pos-'));
    [demo, browser] = await Promise.all([startDemo({ dataDir }), launchChromium()]);
    cardNo = demo.chain.cards[0]!.cardNo;
  });

  after(async function () {
    this.timeout(30_000);
    await browser?.close();
    await demo?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const remaining = async () => Number(/剩余次数：(\d+)/.exec(await page.locator(POPUP).innerText())?.[1]);

  it('logs a cashier in (a wrong password is refused)', async () => {
    page = await openTill(browser, demo.tills[0].url);
    await shot(page, '01-login');
    await page.fill('[data-testid=login-id]', '1001');
    await page.fill('[data-testid=login-password]', 'wrong');
    await page.click('[data-testid=login-submit]');
    await page.waitForSelector('.login-card .error');
    await logIn(page, '1001', '1234');
    assert.match(await page.innerText('[data-testid=operator]'), /王小明/);
    assert.match(await page.innerText('[data-testid=sync]'), /待上传 0/);
    await shot(page, '02-till');
  });

  it('sells and activates a made card from the CineCard menu', async () => {
    await page.click('[data-testid=menu]');
    await shot(page, '03-menu');
    await page.click('[data-menu-id="cinecard.card.sell"]');
    const screen = page.locator('[data-view-id="cinecard.card.sell"]');
    await screen.waitFor();
    await page.click(`[data-card-no="${cardNo}"]`);
    await screen.locator('[data-action=confirm]').waitFor();
    await shot(page, '04-sell-card');
    await screen.locator('[data-action=confirm]').click();
    await screen.locator('.v-banner.tone-success').waitFor();
    await shot(page, '05-sold');
    await page.click('[data-testid=card-remove]');
    const close = screen.locator('[data-action=close]');
    if (await close.count()) await close.click();
    await screen.waitFor({ state: 'detached' });
  });

  it('tap → popup → redeems 2 uses for two tickets → new balance → remove → closed; the sale is paid by CineCard', async () => {
    await page.click('[data-showtime=s1]');
    await page.click('[data-showtime=s1]');
    await page.locator('[data-testid=basket-lines] li[data-line-id]').nth(1).waitFor();
    assert.equal(await page.locator('[data-testid=basket-lines] li[data-line-id]').count(), 2);
    await page.click('[data-testid=pay-card]');
    await page.click(`[data-card-no="${cardNo}"]`);
    const popup = page.locator(POPUP);
    await popup.waitFor();
    assert.equal(await popup.locator('[data-field-id=uses]').inputValue(), '2');
    const before = await remaining();
    assert.equal(before, 10);
    await shot(page, '06-redeem-popup');
    await popup.locator('[data-action=confirm]').click();
    await popup.getByText('扣次成功').waitFor();
    assert.match(await popup.innerText(), /本次扣 2 次，剩余 8 次/);
    assert.match(await popup.innerText(), /已作为支付计入本单/);
    await shot(page, '07-redeemed');
    await page.click('[data-testid=card-remove]');
    await popup.waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-tender=cinecard]').count(), 1);
    assert.match(await page.innerText('[data-tender=cinecard]'), new RegExp(`${cardNo} · 2 次`));
    assert.equal(await page.innerText('[data-testid=due]'), '¥0.00');
    await shot(page, '08-paid-by-cinecard');
    // The op goes up to central by sync: the light comes back to "online · 0 pending".
    await page.locator('[data-testid=sync]', { hasText: /已联网 · 待上传 0/ }).waitFor({ timeout: 10_000 });
    await page.click('[data-testid=new-sale]');
    await page.locator('[data-testid=basket-lines] li.empty').waitFor();
  });

  it('a card pulled mid-write is settled on the re-tap, balance right', async () => {
    await page.click('[data-showtime=s3]');
    await page.locator('[data-testid=basket-lines] li[data-line-id]').first().waitFor();
    await page.click(`[data-card-no="${cardNo}"]`);
    const popup = page.locator(POPUP);
    await popup.waitFor();
    assert.equal(await remaining(), 8);
    await page.click('[data-testid=card-tear]');
    await popup.locator('[data-action=confirm]').click();
    await popup.getByText('写卡没有完成确认').waitFor();
    await page.locator('.pad:not(.busy)').waitFor(); // the card left the reader by itself
    await shot(page, '09-pulled-mid-write');
    await page.click(`[data-card-no="${cardNo}"]`);
    const settled = page.locator(POPUP).getByText(/上次扣次没有写入卡片|上次未确认的扣次已核实写入卡片/);
    await settled.waitFor();
    const text = await page.locator(POPUP).innerText();
    const landed = /已核实写入卡片/.test(text);
    await shot(page, '10-settled-on-retap');
    // The tear came at the first write APDU before it took effect: nothing reached the card.
    assert.equal(landed, false);
    assert.equal(await remaining(), 8);
    await page.click('[data-testid=card-remove]');
    await page.locator(POPUP).waitFor({ state: 'detached' });
    const ops = await demo.tills[0].plugin.store.opsOfCard(cardNo);
    assert.deepEqual(ops.filter((o) => o.kind === 'redeem').map((o) => o.uses), [2]);
  });

  it('a card blacklisted at cinema A is refused at cinema B within seconds, without a reload', async () => {
    // Cinema A's manager lists the card.
    await page.click('[data-testid=logout]');
    await logIn(page, '1009', '9999');
    await page.click('[data-testid=menu]');
    await page.click('[data-menu-id="cinecard.blacklist"]');
    const screen = page.locator('[data-view-id="cinecard.blacklist"]');
    await screen.waitFor();
    await screen.locator('[data-field-id=cardNo]').fill(cardNo);
    await screen.locator('[data-field-id=reason]').fill('顾客挂失');
    const pageB = await openTill(browser, demo.tills[1].url);
    await logIn(pageB, '2001', '1234'); // cinema B's till, open before the change and never reloaded
    await screen.locator('[data-action=add]').click();
    const listedAt = Date.now();
    await screen.getByText(`卡号 ${cardNo} 已列入黑名单`).waitFor();
    await shot(page, '12-blacklisted-at-A');

    // Central pokes cinema B's till, which pulls the blacklist first.
    const cardsB = demo.tills[1].plugin.resolve(CardCacheToken);
    while (!(await cardsB.isBlacklisted(cardNo))) {
      assert.ok(Date.now() - listedAt < 10_000, 'cinema B learns of it within seconds');
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`      blacklist reached cinema B's till in ${Date.now() - listedAt} ms`);
    await pageB.click(`[data-card-no="${cardNo}"]`);
    const refused = pageB.locator(POPUP).getByText('此卡已列入黑名单，不能消费。');
    await refused.waitFor();
    await shot(pageB, '13-refused-at-B');
    await pageB.click('[data-testid=card-remove]');
    await pageB.locator(POPUP).waitFor({ state: 'detached' });
    await pageB.close();
    assert.ok(demo.tills[1].plugin.store, 'B kept running');
    assert.deepEqual((await demo.tills[1].plugin.store.opsOfCard(cardNo)).filter((o) => o.kind === 'redeem'), [], 'nothing taken at B');
  });

  it('switches the till to English', async () => {
    await page.click('[data-locale=en]');
    await page.getByText("Today's showtimes").waitFor();
    await shot(page, '11-english');
    await page.click('[data-locale=zh-CN]');
    await page.getByText('今日排片').waitFor();
  });

  it('a till HQ revoked says so, in its sync light and its sync screen (not "offline")', async () => {
    // Last: cinema B's till stays refused. HQ revokes it; its next sync round is refused.
    const origin = demo.central.apiUrl.replace(/\/v1\/?$/, ''); // the typed client's paths carry /v1
    const { accessToken } = (await createCentralClient(origin).POST('/v1/auth/login', { body: DEMO_ADMIN })).data!;
    const admin = createCentralClient(origin, { token: accessToken });
    const revoked = await admin.POST('/v1/terminals/{terminalId}/revoke', { params: { path: { terminalId: demo.chain.terminals[1].terminalId } } });
    assert.equal(revoked.response.status, 200);
    const pageB = await openTill(browser, demo.tills[1].url);
    if (await pageB.locator('#login').isVisible()) await logIn(pageB, '2001', '1234'); // anyone may open the sync screen
    await pageB.click('[data-testid=menu]');
    await pageB.click('[data-menu-id="cinecard.sync"]');
    const screen = pageB.locator('[data-view-id="cinecard.sync"]');
    await screen.locator('[data-action=sync_now]').click();
    await screen.getByText('总部拒绝了本机的登录凭据').waitFor();
    await pageB.locator('[data-testid=sync]', { hasText: '总部拒绝本机' }).waitFor({ timeout: 10_000 });
    await shot(pageB, '14-refused-till');
    await pageB.close();
  });
});

// Debian's chromium driven by playwright-core (no browser download), with the flags that let
// it run headless as root in a container, and the dashboard's logins as a person does them
// (password, single sign-on).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PATCHLOOP_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install chromium (scripts/test-debian-packages lists it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Opens `path` (the login form shows first) and logs in with the admin credential. */
export async function logIn(page: Page, base: string, password: string, path = '/'): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.sidebar').waitFor();
}

/**
 * Opens `path` and signs on through the OpenID provider of test/support/oidc.ts: its button on the
 * login page, then the provider's own login and consent pages (any password is taken), back in
 * the dashboard.
 */
export async function signOn(page: Page, base: string, account: string, path = '/'): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.getByRole('link', { name: 'Log in with Example ID' }).click();
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('.sidebar').waitFor();
}

/**
 * The figure of the KPI tile `id` as the page shows it, once it shows one (a tile says "–" while its
 * figures load).
 */
export async function kpiValue(page: Page, id: string): Promise<number> {
  const value = page.locator(`[data-kpi="${id}"] [data-value]`);
  await page.waitForFunction(
    (el) => /^[\d,]+$/.test(el?.textContent?.trim() ?? ''),
    await value.elementHandle({ timeout: 10_000 }),
    { timeout: 10_000 },
  );
  return Number((await value.textContent())!.replace(/,/g, ''));
}

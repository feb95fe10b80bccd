// Debian's chromium driven by playwright-core (no browser download), with the flags that let
// it run headless as root in a container, and the dashboard's login as a person does it.
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

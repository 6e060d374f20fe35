/**
 * Debian's Chromium for the report tests, driven by playwright-core.
 * Policy: CI installs it (.ci/run) and a test that needs it FAILS in CI
 * without it; on a developer machine without Chromium it is skipped with a
 * loud reason. CHROMIUM_PATH overrides the binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0) candidates.push(r.stdout.trim());
  }
  return candidates.find((c): c is string => !!c && existsSync(c));
}

export const CHROMIUM = findChromium();
export const IN_CI = !!process.env.CI;
/** Skip (loudly) only off CI; in CI a missing Chromium fails the test in beforeAll. */
export const SKIP_WITHOUT_CHROMIUM = !CHROMIUM && !IN_CI;

export function warnIfSkipped(file: string): void {
  if (SKIP_WITHOUT_CHROMIUM)
    console.warn(
      `\n*** ${file} SKIPPED: no Chromium found (looked at $CHROMIUM_PATH, /usr/bin/chromium, chromium on PATH).\n` +
        '*** Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH. In CI (CI set) this is a failure, not a skip.\n',
    );
}

/** A fresh profile per launch: nothing cached or remembered from another session. */
export async function launchChromium(width = 1280): Promise<{ browser: BrowserContext; close: () => Promise<void> }> {
  if (!CHROMIUM) throw new Error('Chromium is required in CI: install it (apt-get install -y chromium, see .ci/run) or set CHROMIUM_PATH');
  const profile = mkdtempSync(join(tmpdir(), 'trajgen-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Open a page of a report from disk (`file://`, no server), collecting what the report tests check on every
 * page: console errors, uncaught exceptions and every request it made (none may leave the disk).
 */
export async function openFromDisk(browser: BrowserContext, file: string, hash?: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href + (hash ? `#${hash}` : ''), { waitUntil: 'load' });
  return { page, errors, requests };
}

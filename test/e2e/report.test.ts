/**
 * The HTML report end to end: real nx runs the archive stage on seeded upstream
 * outputs (libs/archive/src/__fixtures__/seed.ts: the inter-stage formats), the
 * plugin hook records the run, and headless Chromium (Debian's package, driven
 * by playwright-core) opens the page from disk.
 *
 * Chromium policy (test/e2e/chromium.ts): required in CI, skipped loudly elsewhere.
 */
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, openFromDisk, SKIP_WITHOUT_CHROMIUM, warnIfSkipped } from './chromium';
import { parse } from 'yaml';
import { seedPipelineOutputs } from '../../libs/archive/src/__fixtures__/seed';
import { createTempWorkspace, REPO_ROOT, type TempWorkspace } from './harness';

warnIfSkipped('report.test.ts');

export const SCREENSHOT = join(REPO_ROOT, 'artifacts/screenshots/report-seeded.png');
const NOTE = 'lr sweep <img src=x onerror=window.__pwned=1> & "quotes"';

describe.skipIf(SKIP_WITHOUT_CHROMIUM)('the HTML report in headless Chromium', () => {
  let ws: TempWorkspace;
  let browser: BrowserContext;
  let closeBrowser: (() => Promise<void>) | undefined;
  let archiveRun: ReturnType<TempWorkspace['nx']>;

  beforeAll(async () => {
    ws = createTempWorkspace({ prefix: 'trajgen-report-' });
    seedPipelineOutputs(ws.root, 'demo', { dataName: 'demo' });
    archiveRun = ws.nx(['run', 'demo:archive', '--exclude-task-dependencies'], { env: { TRAJGEN_RUN_NOTE: NOTE } });
    ({ browser, close: closeBrowser } = await launchChromium());
  });
  afterAll(async () => {
    await closeBrowser?.();
    ws?.remove();
  });

  const open = () => openFromDisk(browser, join(ws.root, 'artifacts/demo/report/index.html'));

  it('the archive stage writes the report and the hook records the run', () => {
    expect(archiveRun.code, archiveRun.output).toBe(0);
    expect(archiveRun.ran).toEqual(['demo:archive']);
    expect(archiveRun.output).toMatch(/trajgen: recorded demo run_001 \(completed: .*ran archive\) → artifacts\/demo\/archives\/run_001/);
    const index = parse(ws.read('artifacts/demo/index.yaml'));
    expect(index.runs).toHaveLength(1);
    expect(index.runs[0]).toMatchObject({ id: 'run_001', status: 'completed', stages_ran: ['archive'], notes: `${NOTE} — ran archive` });
    const meta = parse(ws.read('artifacts/demo/archives/run_001/metadata.yaml'));
    expect(meta.stages.archive).toMatchObject({ status: 'ran', hash: expect.stringMatching(/^\d+$/) });
    expect(meta.git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(meta.summary.trials).toMatchObject({ available: true, total: 8, pass_rate: 0.7143 });
  });

  it('loads from disk with no console error and no network request, every chart rendered', async () => {
    const { page, errors, requests } = await open();
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    const charts = await page.$$('figure.chart > svg');
    const names = await page.$$eval('figure.chart', (els) => els.map((e) => e.getAttribute('data-chart')));
    expect(names.sort()).toEqual(['conversion', 'drops', 'exclusions', 'loss', 'outcomes', 'pass-rate', 'scores', 'tokens']);
    for (const svg of charts) {
      const box = await svg.boundingBox();
      expect(box && box.width > 100 && box.height > 40, JSON.stringify(box)).toBe(true);
    }
    // The charts hold drawn data, not just frames: bars, the loss line, the score histogram.
    expect(await page.$$eval('[data-chart="pass-rate"] rect', (r) => r.length)).toBeGreaterThan(4);
    expect(await page.$eval('[data-chart="loss"] path', (p) => (p.getAttribute('d') ?? '').split('L').length)).toBe(16);
    expect(await page.$$eval('[data-chart="scores"] rect[height]', (r) => r.filter((x) => Number(x.getAttribute('height')) > 0).length)).toBeGreaterThan(1);
    expect(await page.textContent('#rollout')).toContain('fix-off-by-one');
    expect(await page.textContent('#training')).toContain('artifacts/demo/model/demo-lora/checkpoint-16');
    await page.close();
  });

  it('shows the run history from history.js, notes as text (never markup)', async () => {
    const { page, errors } = await open();
    expect(errors).toEqual([]);
    const rows = await page.$$eval('#history-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toHaveLength(1);
    expect(rows[0].slice(0, 2)).toEqual(['run_001', 'completed']);
    expect(rows[0][5]).toBe(`${NOTE} — ran archive`);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$('#history-table img')).toHaveLength(0);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`report screenshot: ${SCREENSHOT}`);
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
    await page.close();
  });

  it('without history.js (the page copied elsewhere) it still renders and says there is no run history', async () => {
    const history = join(ws.root, 'artifacts/demo/report/history.js');
    renameSync(history, `${history}.away`);
    try {
      const { page, errors } = await open();
      // The only error is the missing script file itself.
      expect(errors.filter((e) => !/ERR_FILE_NOT_FOUND|Failed to load resource/.test(e))).toEqual([]);
      expect(await page.textContent('#history-note')).toMatch(/^No run history in this clone/);
      expect(await page.$$('figure.chart > svg')).toHaveLength(8);
      await page.close();
    } finally {
      renameSync(`${history}.away`, history);
    }
  });
});

/**
 * The trial viewer after a real demo run: real nx runs the whole demo chain
 * (real Claude Code + the oracle, which gets fix-off-by-one wrong on purpose)
 * in a temporary copy of the workspace, then headless Chromium opens the
 * report from disk and a person's path is followed: task table → the failed
 * trial → its verifier output and tool calls; a sub-agent opened from its
 * parent's call (a synthetic sub-agent row appended to the scored IM, named
 * as such: the demo's oracle starts none); the trials list filtered.
 * Screenshots (1400 px) are saved under artifacts/screenshots/ for a person.
 *
 * Chromium policy (test/e2e/chromium.ts): required in CI, skipped loudly elsewhere.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, openFromDisk, SKIP_WITHOUT_CHROMIUM, warnIfSkipped } from './chromium';
import { createTempWorkspace, REPO_ROOT, type NxRun, type TempWorkspace } from './harness';

warnIfSkipped('trial-viewer.test.ts');

const SHOTS = join(REPO_ROOT, 'artifacts/screenshots');
const FAKE_KEY = 'sk-ant-api03-THISISAFAKEKEYFORTHETEST0123456789';

describe.skipIf(SKIP_WITHOUT_CHROMIUM)('trial viewer after a real demo run (headless Chromium)', () => {
  let ws: TempWorkspace;
  let browser: BrowserContext;
  let closeBrowser: (() => Promise<void>) | undefined;
  let demo: NxRun;

  beforeAll(async () => {
    ws = createTempWorkspace({ prefix: 'trajgen-viewer-' });
    demo = ws.nx(['run', 'demo:archive'], { timeoutMs: 900_000 });
    ({ browser, close: closeBrowser } = await launchChromium(1400));
  }, 1_000_000);
  afterAll(async () => {
    await closeBrowser?.();
    ws?.remove();
  });

  function open(path: string) {
    const [file, hash] = path.split('#');
    return openFromDisk(browser, join(ws.root, 'artifacts/demo/report', file), hash);
  }

  it('the demo runs end to end and the archive stage writes the data of every trial', () => {
    expect(demo.code, demo.output.slice(-5000)).toBe(0);
    expect(demo.output).toMatch(/trial pages: 8 trials → artifacts\/demo\/report\/trials\//);
    const files = readdirSync(join(ws.root, 'artifacts/demo/report/trials')).sort();
    expect(files).toEqual(['index.js', 's.js']);
    expect(readFileSync(join(ws.root, 'artifacts/demo/report/trials/s.js'), 'utf8').match(/^TRAJGEN_TRIAL\(/gm)).toHaveLength(8);
  });

  it('two clicks answer "why did fix-off-by-one fail, and what did the agent do?"', async () => {
    const { page, errors, requests } = await open('index.html');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'report-overview.png'), fullPage: true });
    // Click 1: the failed trial, straight from its row in the task table.
    const row = page.locator('table.tasks tr', { hasText: 'fix-off-by-one' });
    await row.locator('a.trial').click();
    await page.waitForSelector('#verifier pre');
    expect(page.url()).toMatch(/trial\.html#s[0-9]*\/t[0-9a-f]+$/);
    expect(await page.textContent('h2 .badge')).toBe('unresolved');
    expect(await page.textContent('.why')).toMatch(/verifier failed \(reward 0\).*not converted.*unresolved/s);
    // Why: the verifier's own output, with the failing assertion.
    const verifier = await page.textContent('#verifier');
    expect(verifier).toContain('verifier/test-stdout.txt');
    expect(verifier).toMatch(/FAILED \(failures=\d+\)/);
    expect(verifier).toMatch(/AssertionError/);
    // What the agent did: its tool calls with arguments and results, rebuilt from the raw calls (the trial has no IM row).
    expect(await page.textContent('#trial')).toMatch(/rebuilt from the \d+ raw model calls/);
    const calls = page.locator('.call');
    expect(await calls.count()).toBeGreaterThanOrEqual(3);
    expect(await calls.first().locator('.name').first().textContent()).toMatch(/tool call: Bash/);
    expect(await page.locator('.call pre.res').count()).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('#conversation')).toContain('pagination.py');
    await page.screenshot({ path: join(SHOTS, 'report-trial.png'), fullPage: true });
    expect(statSync(join(SHOTS, 'report-trial.png')).size).toBeGreaterThan(30_000);
    expect(errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  });

  it('the trials list filters and sorts, and leads to the same trial from the task name', async () => {
    const { page, errors } = await open('index.html');
    await page.locator('table.tasks a', { hasText: 'fix-off-by-one' }).first().click();
    await page.waitForSelector('#list-body tr');
    expect(await page.locator('#list-body tr').count()).toBe(1);
    expect(await page.inputValue('#f-task')).toBe('fix-off-by-one');
    await page.selectOption('#f-task', '');
    expect(await page.locator('#list-body tr').count()).toBe(8);
    await page.selectOption('#f-outcome', 'resolved');
    expect(await page.locator('#list-body tr').count()).toBe(7);
    await page.selectOption('#f-outcome', '');
    await page.selectOption('#f-reason', 'unresolved');
    const only = await page.$$eval('#list-body tr td:first-child', (tds) => tds.map((t) => t.textContent));
    expect(only).toHaveLength(1);
    expect(only[0]).toMatch(/^fix-off-by-one__/);
    await page.selectOption('#f-reason', '');
    await page.fill('#f-scoreMin', '0.0');
    // Only converted trials have a quality score: the failed one drops out.
    expect(await page.locator('#list-body tr').count()).toBe(7);
    await page.fill('#f-scoreMin', '');
    // Sorting by reward puts the 0.0 first.
    await page.click('#list-head th[data-key="reward"]');
    expect(await page.textContent('#list-body tr:first-child td:first-child')).toMatch(/^fix-off-by-one__/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a sub-agent conversation opens from its parent tool call; secrets never reach the report', async () => {
    // A synthetic sub-agent row (a test fixture, not the demo's output), in the format convert writes:
    // `_agent_type: "subagent"` and `_parent_tool_call_id` = the parent's tool call id.
    const scored = join(ws.root, 'artifacts/demo/data/im_data/demo.scored.jsonl');
    const lines = readFileSync(scored, 'utf8').trimEnd().split('\n');
    const main = JSON.parse(lines.find((l) => l.includes('"add-greeting')) ?? lines[0]);
    const ui = main.meta_info.unique_info;
    const parentCall = main.messages.find((m: any) => m.role === 'assistant' && m.tool_calls?.length).tool_calls[0].id;
    const sub = {
      ...main,
      meta_info: { ...main.meta_info, unique_info: { ...ui, _agent_type: 'subagent', _parent_tool_call_id: parentCall, _score: null, _flags: null, _lf: null } },
      messages: [
        { role: 'system', content: 'You are a search sub-agent.' },
        { role: 'user', content: 'Find where greet() is defined.' },
        { role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: 'sub_call_1', type: 'function', function: { name: 'Grep', arguments: '{"pattern":"def greet"}' } }] },
        { role: 'tool', tool_call_id: 'sub_call_1', content: `greeting.py:1:def greet(name):  # token ${FAKE_KEY}` },
        { role: 'assistant', content: 'greet() is defined in greeting.py, line 1.', reasoning_content: '' },
      ],
    };
    appendFileSync(scored, JSON.stringify(sub) + '\n');
    const rerun = ws.nx(['run', 'demo:archive', '--exclude-task-dependencies']);
    expect(rerun.code, rerun.output.slice(-3000)).toBe(0);

    const { page, errors } = await open(`trials.html#task=${String(ui._trial).replace(/__[^_]*$/, '')}`);
    await page.click('#list-body tr:first-child td:first-child a');
    await page.waitForSelector('.call');
    expect(await page.textContent('.convs')).toMatch(/sub-agent 1/);
    await page.locator('a.sublink').first().click();
    await page.waitForSelector('#conv-c1');
    const conv = await page.textContent('#conversation');
    expect(conv).toContain('greet() is defined in greeting.py');
    expect(conv).toContain(`started by the main agent's call ${parentCall}`);
    expect(conv).not.toContain(FAKE_KEY);
    expect(conv).toContain('<redacted>');
    // Back to the parent.
    await page.locator('#conversation a', { hasText: 'started by the main agent' }).click();
    await page.waitForSelector('#conv-c0');
    expect(errors).toEqual([]);
    await page.close();
    const report = join(ws.root, 'artifacts/demo/report');
    const all = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(d, e.name)) : [join(d, e.name)]));
    for (const f of all(report)) expect(readFileSync(f, 'utf8').includes(FAKE_KEY), f).toBe(false);
  });

  it('a fully cached rerun says which stages were restored and from which run, instead of replaying their logs', () => {
    const again = ws.nx(['run', 'demo:archive']);
    expect(again.code, again.output.slice(-3000)).toBe(0);
    expect(again.ran).toEqual([]);
    // train ran in run_001 (the demo). The score stage is restored too, which takes the appended
    // sub-agent row back out of the scored IM, so archive's inputs are run_001's again.
    expect(again.output).toMatch(/↺ demo:train restored from the Nx cache, not run again\.\s+It ran in run_001: done in \S+ — .*\(finished \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/);
    expect(again.output).toMatch(/↺ demo:archive restored from the Nx cache, not run again\.\s+It ran in run_001/);
    // Not the old log as if it ran again: no progress lines, no "done in" line of its own.
    expect(again.output).not.toMatch(/^✔ demo:train done in/m);
    expect(again.output).not.toContain('Training config:');
    // The full log of the run that produced the outputs is kept in that run's archive.
    const log = readFileSync(join(ws.root, 'artifacts/demo/archives/run_001/logs/train.log'), 'utf8');
    expect(log).toMatch(/✔ demo:train done in .* \(finished \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/);
    expect(again.output).toContain('artifacts/demo/archives/run_001/logs/train.log');
  });
});

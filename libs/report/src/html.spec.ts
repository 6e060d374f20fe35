import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { OUTCOME_COLOURS, renderHistoryScript, renderReport } from './html';
import { renderTrialScript, renderTrialsIndexScript, renderTrialPage, renderTrialsPage, TRIAL_COLUMNS } from './viewer';
import type { TrialDetail, TrialListRow } from './model';
import type { PipelineSummary } from './model';

const none = (reason: string) => ({ available: false as const, reason });

function summary(overrides: Partial<PipelineSummary> = {}): PipelineSummary {
  return {
    schema_version: 1,
    pipeline: 'demo',
    description: 'eight tasks <b>bold</b> & "quoted"',
    tasks: { available: true, source: 'ledger', ledger: { total: 3, counts: { pending: 0, running: 0, done: 2, failed: 1, skipped: 0 } }, batch: { size: 3, counts: { listed: 3 } } },
    trials: {
      available: true,
      source: 'artifacts/demo/rollout/trials.json',
      total: 4,
      jobs: 1,
      resolved: 2,
      unresolved: 1,
      errors: 1,
      pass_rate: 0.6667,
      rewards: { count: 3, min: 0, mean: 0.6667, max: 1 },
      by_exception: { AgentTimeoutError: 1 },
      by_agent: { 'claude-code': 4 },
      per_task: [
        { task_id: 'add-greeting', trials: 2, resolved: 2, unresolved: 0, errors: 0, pass_rate: 1, mean_reward: 1, input_tokens: 2000, output_tokens: 600, cost_usd: 0.02 },
        { task_id: '<img src=x onerror=alert(1)>', trials: 2, resolved: 0, unresolved: 1, errors: 1, pass_rate: 0, mean_reward: 0, input_tokens: null, output_tokens: null, cost_usd: null },
      ],
    },
    usage: { available: true, source: 'jobs', input_tokens: 2000, output_tokens: 600, cache_tokens: 100, cost_usd: 0.02, trials_with_usage: 2, trials_total: 4, last_run: null },
    conversion: { available: true, source: 'im', data_name: 'demo', rows: 2, instances: 2, trials: { seen: 4, selected: 3, converted: 2 }, not_selected: { unresolved: 1 }, dropped: { no_trajectory: 1 }, by_scaffold: { 'claude-code': 2 } },
    score: {
      available: true,
      source: 'lf',
      data_name: 'demo',
      lf_format: 'sharegpt',
      rows: { in: 2, lf: 2, excluded: 0 },
      exclusions: {},
      scores: { all: { count: 2, min: 0.5, mean: 0.7, max: 0.9 }, lf: null },
      tokens: { count: 2, min: 100, mean: 150, max: 200 },
      turns: null,
      hack_flags: { confirmed: 0, suspected: 0 },
      tool_error_rate: 0.1,
    },
    register: { available: true, source: 'r', dataset: 'demo', action: 'registered', file_name: 'demo.json', dataset_dir: 'artifacts/demo/data/lf_data' },
    training: { available: true, source: 't', run: 'demo-lora', backend: 'hf', final_loss: 0.4, train_loss: 0.9, steps: 16, total_steps: 16, epoch: 8, runtime_sec: 40, checkpoint_path: 'artifacts/demo/model/demo-lora/checkpoint-16', cached_checkpoint: null, log: null },
    ...overrides,
  };
}

describe('renderReport', () => {
  it('renders every section with inline SVG charts', () => {
    const { html, charts } = renderReport(summary(), { scores: [0.5, 0.9], loss: [[1, 2], [2, 1.5], [3, 0.4]] }, { generatedAt: '2026-11-21T10:00:00Z' });
    for (const id of ['rollout', 'usage', 'conversion', 'score', 'training', 'register', 'runs', 'history']) expect(html).toContain(`<section id="${id}">`);
    expect(Object.keys(charts).sort()).toEqual(['conversion', 'drops', 'loss', 'outcomes', 'pass-rate', 'scores', 'tokens']);
    // An empty part says why instead of drawing an empty chart.
    expect(html).toContain('No row was left out of the training data by the filters.');
    for (const [name, svg] of Object.entries(charts)) {
      expect(svg.startsWith('<svg')).toBe(true);
      expect(html).toContain(`data-chart="${name}">${svg}</figure>`);
    }
    expect(html).toContain('66.7 %');
    expect(charts.drops).toContain('not selected: unresolved');
    expect(charts.drops).toContain('dropped: no_trajectory');
    expect(html).toContain('<code>artifacts/demo/model/demo-lora/checkpoint-16</code>');
  });

  it('is self-contained: nothing is fetched from a URL', () => {
    const { html } = renderReport(summary(), {});
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(|fetch\(|XMLHttpRequest/);
    expect(html.match(/<script src="([^"]+)"/g)).toEqual(['<script src="history.js"']);
  });

  it('escapes every text it did not write itself', () => {
    const { html } = renderReport(summary(), {});
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('eight tasks &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;');
  });

  it('says "not available" with the reason for each missing part, and draws no chart for it', () => {
    const { html, charts } = renderReport(
      summary({ trials: none('artifacts/demo/rollout/trials.json does not exist'), usage: none('no rollout yet'), training: none('artifacts/demo/train/result.json does not exist'), register: none('x') }),
      {},
    );
    expect(html).toContain('Not available: artifacts/demo/rollout/trials.json does not exist');
    expect(html).toContain('Not available: artifacts/demo/train/result.json does not exist');
    expect(html).not.toContain('<section id="register">');
    expect(charts).not.toHaveProperty('pass-rate');
    expect(charts).not.toHaveProperty('loss');
    expect(html).toContain('Score distribution: no scored rows');
  });

  it('switches per-task bars to a histogram for many tasks and caps the table', () => {
    const row = (i: number) => ({ task_id: `t${i}`, trials: 1, resolved: i % 2, unresolved: 1 - (i % 2), errors: 0, pass_rate: i % 2, mean_reward: i % 2, input_tokens: null, output_tokens: null, cost_usd: null });
    const s = summary();
    if (!s.trials.available) throw new Error('fixture');
    s.trials.per_task = Array.from({ length: 600 }, (_, i) => row(i));
    const { html, charts } = renderReport(s, {});
    expect(charts['pass-rate']).toContain('resolved share per task (600 tasks)');
    expect(html).toContain('100 more tasks not shown');
  });
});

describe('renderHistoryScript', () => {
  it('is a script that defines window.TRAJGEN_HISTORY, whatever the notes contain', () => {
    const runs = [
      { id: 'run_001', started_at: 'a', completed_at: 'b', status: 'completed' as const, archive: 'artifacts/demo/archives/run_001', stages_ran: ['score'], notes: '</script><script>alert(1)</script> \u2028 line' },
    ];
    const window: { TRAJGEN_HISTORY?: unknown } = {};
    runInNewContext(renderHistoryScript(runs), { window });
    expect(window.TRAJGEN_HISTORY).toEqual(runs);
  });
});

describe('trial viewer links and words', () => {
  const failed = { '<img src=x onerror=alert(1)>': [{ id: 'tabc123', trial: 'x__1', outcome: 'unresolved' }] };

  it('links the task table, the outcome bars and the drop bars into the trials list, and failed trials straight to their page', () => {
    const { html, charts } = renderReport(summary(), { trials: { pages: true, failed } });
    expect(html).toContain('href="trial.html#tabc123"');
    expect(html).toContain(`href="trials.html#task=${encodeURIComponent('<img src=x onerror=alert(1)>').replace(/&/g, '&amp;')}"`);
    expect(charts.outcomes).toContain('href="trials.html#outcome=unresolved"');
    expect(charts.drops).toContain('href="trials.html#reason=no_trajectory"');
    expect(charts.drops).toContain('href="trials.html#reason=unresolved"');
    expect(html).toContain('Look at every trial');
  });

  it('colours mean outcomes, not positions', () => {
    const { charts } = renderReport(summary(), { trials: { pages: true, failed } });
    expect(charts.outcomes).toContain(`fill="${OUTCOME_COLOURS.resolved}"`);
    expect(charts.outcomes).toContain(`fill="${OUTCOME_COLOURS.unresolved}"`);
    expect(charts.outcomes).toContain(`fill="${OUTCOME_COLOURS.error}"`);
    // A task at 100 % is green, one at 0 % red: the same colours.
    expect(charts['pass-rate']).toContain(`fill="${OUTCOME_COLOURS.resolved}"`);
    expect(charts['pass-rate']).toContain(`fill="${OUTCOME_COLOURS.unresolved}"`);
  });

  it('marks illustrative costs and links "quality score" to its definition', () => {
    const { html } = renderReport(summary(), { costNote: 'illustrative: oracle prices' });
    expect(html).toContain('<span class="illustrative">illustrative: oracle prices</span>');
    expect(html).toContain('<a href="#score-definition">quality score</a>');
    expect(html).toContain('id="score-definition"');
    expect(html).not.toContain('TQS V2 composite');
  });

  it('writes trial data as scripts that cannot be broken out of', () => {
    const detail = { id: 'tabc', trial: '</script><script>alert(1)</script>', conversations: [], notes: ['\u2028'] } as unknown as TrialDetail;
    const text = renderTrialScript(detail);
    expect(text).not.toContain('</script>');
    let got: unknown;
    runInNewContext(text, { TRAJGEN_TRIAL: (d: unknown) => (got = d) });
    expect(got).toEqual(detail);
    const row = Object.fromEntries(TRIAL_COLUMNS.map((c) => [c, c === 'task' ? '</script>' : null])) as unknown as TrialListRow;
    const window: { TRAJGEN_TRIALS?: { columns: string[]; rows: unknown[][] } } = {};
    runInNewContext(renderTrialsIndexScript([row]), { window });
    expect(window.TRAJGEN_TRIALS!.rows[0][TRIAL_COLUMNS.indexOf('task')]).toBe('</script>');
  });

  it('the viewer pages fetch nothing from a URL and load only their own data scripts', () => {
    for (const html of [renderTrialsPage('demo'), renderTrialPage('demo')]) {
      expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
      expect(html).not.toMatch(/fetch\(|XMLHttpRequest|innerHTML/);
    }
    expect(renderTrialsPage('demo').match(/<script src="([^"]+)"/g)).toEqual(['<script src="trials/index.js"']);
  });
});

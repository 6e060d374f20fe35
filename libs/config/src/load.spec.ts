import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { validatePipelineConfigText, formatIssue, SECTIONS } from './index';

const MINIMAL = `
training:
  model_name_or_path: base-model
  output_dir: run-1
`;

function validate(text: string, name = 'p') {
  return validatePipelineConfigText(text, 'pipelines/p/config.yaml', name);
}

function withSection(section: string, body: Record<string, unknown>) {
  const base: Record<string, unknown> = { training: { model_name_or_path: 'm', output_dir: 'o' } };
  base[section] = { ...(base[section] as object), ...body };
  return stringify(base);
}

describe('pipeline config schema', () => {
  it('fills every default from a minimal config', () => {
    const r = validate(MINIMAL);
    expect(r.issues).toEqual([]);
    const c = r.config!;
    expect(c.meta_info.name).toBe('p');
    expect(c.task_source).toMatchObject({ path: 'tasks', manifest: 'verifiable_tasks.txt', allow_unverified: false, staging: 'link' });
    expect(c.rollout).toMatchObject({ engine: 'local', scaffold: 'claude-code', n_concurrent: 1, max_retries: 2 });
    expect(c.rollout.llm_api.model).toBe('trajgen-oracle');
    expect(c.proxy.backend).toBe('builtin');
    expect(c.conversion).toMatchObject({ data_name: 'p', instance_status: 'resolved', reasoning_check: 'adaptive', reasoning_ratio_threshold: 0.2 });
    expect(c.scoring.weights).toEqual({ submission: 0.33, steps: 0.27, tests: 0.23, edit_concentration: 0.1, dead_paths: 0.07 });
    expect(c.dataset.name).toBe('p');
    expect(c.training).toMatchObject({ backend: 'llamafactory', finetuning_type: 'lora', learning_rate: 1e-4, output_dir: 'run-1' });
    expect(c.runtime_info.output).toEqual({});
  });

  it('reports file, line, key path, expected and found', () => {
    const text = `${MINIMAL}rollout:\n  n_concurrent: four\n`;
    const r = validate(text);
    expect(r.config).toBeUndefined();
    expect(r.issues).toHaveLength(1);
    const line = formatIssue(r.issues[0]);
    expect(line).toBe('pipelines/p/config.yaml:6:17 rollout.n_concurrent: expected a number, found "four" (a string)');
  });

  it('rejects unknown keys with the closest valid key', () => {
    const r = validate(`${MINIMAL}  learning_rat: 0.1\nrollout:\n  n_concurent: 2\n`);
    const messages = r.issues.map(formatIssue);
    expect(messages.some((m) => m.includes('training.learning_rat: unknown key') && m.includes('Did you mean "learning_rate"?'))).toBe(true);
    expect(messages.some((m) => m.includes('rollout.n_concurent: unknown key. Did you mean "n_concurrent"?'))).toBe(true);
  });

  it('accepts real LLaMA-Factory keys in training and rejects made-up ones', () => {
    expect(validate(`${MINIMAL}  flash_attn: fa2\n  mask_history: true\n  neftune_noise_alpha: 5\n`).issues).toEqual([]);
    const r = validate(`${MINIMAL}  flash_atn: fa2\n`);
    expect(formatIssue(r.issues[0])).toContain('Did you mean "flash_attn"?');
  });

  it('reports every problem at once, in file order', () => {
    const r = validate(`rollout:\n  engine: cloud\n  n_concurrent: 0\nconversion:\n  reasoning_check: fastest\ntraining:\n  output_dir: x\n`);
    const paths = r.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(['rollout.engine', 'rollout.n_concurrent', 'conversion.reasoning_check', 'training.model_name_or_path']);
    expect(r.issues[0].message).toContain('expected one of "local", "harbor", found "cloud"');
    expect(r.issues[2].message).toContain('Did you mean "fast"?');
    expect(r.issues[3].message).toContain('required key is missing');
  });

  it('reports YAML syntax errors with their line', () => {
    const r = validate('rollout:\n  engine: [local\n');
    expect(r.issues[0].message).toMatch(/^YAML syntax error/);
    expect(r.issues[0].line).toBeGreaterThan(0);
  });

  // One bad value per section: every section's errors name their key path.
  const badBySection: Record<string, [Record<string, unknown>, string, RegExp]> = {
    meta_info: [{ name: 'other' }, 'meta_info.name', /expected the folder name "p", found "other"/],
    task_source: [{ staging: 'hardlink' }, 'task_source.staging', /expected one of "link", "copy"/],
    ledger: [{ compact_every: -3 }, 'ledger.compact_every', /expected a value ≥ 0|expected a value/],
    rollout: [{ scaffold: 'claude_code' }, 'rollout.scaffold', /Did you mean "claude-code"\?/],
    proxy: [{ port: 70000 }, 'proxy.port', /expected a value ≤ 65535, found 70000/],
    conversion: [{ instance_status: 'passed' }, 'conversion.instance_status', /expected one of "resolved", "unresolved", "all"/],
    scoring: [{ lf_format: 'alpaca' }, 'scoring.lf_format', /expected one of "sharegpt", "rendered"/],
    dataset: [{ source: 'local_lf' }, 'dataset.local_path', /required when source is "local_lf"/],
    training: [{ finetuning_type: 'qlora' }, 'training.finetuning_type', /expected one of "lora", "full", "freeze", "oft"/],
    archive: [{ report: 'yes' }, 'archive.report', /expected a boolean, found "yes"/],
    runtime_info: [{ input: {} }, 'runtime_info.input', /unknown key/],
  };
  it('has a test case for every section', () => {
    expect(Object.keys(badBySection).sort()).toEqual([...SECTIONS].sort());
  });
  for (const [section, [body, path, pattern]] of Object.entries(badBySection)) {
    it(`reports a bad value in ${section}`, () => {
      const r = validate(withSection(section, body));
      const issue = r.issues.find((i) => i.path.join('.') === path);
      expect(issue, JSON.stringify(r.issues)).toBeDefined();
      expect(issue!.message).toMatch(pattern);
      expect(issue!.line).toBeGreaterThan(0);
    });
  }

  it('rejects a literal API key and accepts an env var name', () => {
    const bad = validate(`${MINIMAL}rollout:\n  llm_api:\n    provider: anthropic\n    base_url: https://api.example.com\n    api_key: sk-ant-api03-abcdefghijklmnop\n`);
    const messages = bad.issues.map(formatIssue).join('\n');
    expect(messages).toContain('rollout.llm_api.api_key');
    expect(messages).toContain('secret written literally');
    const good = validate(`${MINIMAL}rollout:\n  llm_api:\n    provider: anthropic\n    base_url: https://api.example.com\n    api_key_env: ANTHROPIC_API_KEY\n`);
    expect(good.issues).toEqual([]);
  });

  it('spots secrets by value under any key, including env maps', () => {
    const r = validate(`${MINIMAL}rollout:\n  agent:\n    env:\n      HELPER: hf_abcdefghijklmnopqrstuvwxyz\n`);
    expect(r.issues.map(formatIssue).join('\n')).toMatch(/rollout\.agent\.env\.HELPER: secret written literally: value looks like a Hugging Face token/);
    const url = validate(`${MINIMAL}rollout:\n  llm_api:\n    provider: openai\n    base_url: https://user:hunter22@api.example.com/v1\n`);
    expect(url.issues.map((i) => i.message).join()).toContain('URL embeds a password');
  });

  it('requires base_url for real providers', () => {
    const r = validate(`${MINIMAL}rollout:\n  llm_api:\n    provider: openai\n`);
    expect(formatIssue(r.issues[0])).toContain('rollout.llm_api.base_url: required when provider is "openai"');
  });

  it('validates the demo pipeline and the generator template', () => {
    const root = join(__dirname, '../../..');
    const demo = validatePipelineConfigText(readFileSync(join(root, 'pipelines/demo/config.yaml'), 'utf8'), 'demo', 'demo');
    expect(demo.issues).toEqual([]);
    const template = readFileSync(join(root, 'tools/trajgen/src/generators/pipeline/files/config.yaml__tmpl__'), 'utf8')
      .replace(/<%= name %>/g, 'gen')
      .replace(/<%= description %>/g, 'x')
      .replace(/<%= engine %>/g, 'harbor')
      .replace(/<%= scaffold %>/g, 'opencode')
      .replace(/<%- JSON.stringify\(fromJobs\) %>/g, '["../../elsewhere/job-1"]')
      .replace(/<%= scaffold === 'claude-code' \? '([^']*)' : '([^']*)' %>/g, '$2');
    const gen = validatePipelineConfigText(template, 'gen', 'gen');
    expect(gen.issues).toEqual([]);
  });
});

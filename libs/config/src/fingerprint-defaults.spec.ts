import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineConfigSchema } from './schema';

/**
 * fingerprint-defaults.json: the schema defaults the Nx plugin's fingerprint
 * (tools/trajgen/bin/fingerprint.cjs) reads, kept as JSON because that file
 * runs on every Nx command and loads no TypeScript. The schema is the source;
 * this fails when the JSON no longer says what the schema does.
 */
const FILE = join(__dirname, 'fingerprint-defaults.json');

function schemaDefault(dotted: string): unknown {
  const [section, ...rest] = dotted.split('.');
  const shape = pipelineConfigSchema.shape as Record<string, { parse(v: unknown): unknown }>;
  let v: unknown = shape[section].parse(undefined);
  for (const k of rest) v = (v as Record<string, unknown>)[k];
  return v;
}

describe('fingerprint-defaults.json', () => {
  it('holds the schema defaults of its keys (when this fails, write the expected values into the file)', () => {
    const stored = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
    const fromSchema = Object.fromEntries(Object.keys(stored).map((k) => [k, schemaDefault(k)]));
    expect(stored, `${FILE} is stale`).toEqual(fromSchema);
    for (const v of Object.values(stored)) expect(v).not.toBeUndefined();
  });
});

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LLAMAFACTORY_KEYS } from '@trajgen/config';
import { ensureLlamaFactoryPython, LLAMAFACTORY_PYTHON_DIR, LLAMAFACTORY_VERSION } from './backend';

const REPO_ROOT = resolve(__dirname, '../../..');

// The real LLaMA-Factory (the managed env, created on first use: a few minutes once, then reused;
// TRAJGEN_LLAMAFACTORY_ENV points several checkouts at one env).
describe('the known training keys against the installed LLaMA-Factory', () => {
  it('libs/config/src/llamafactory-keys.ts lists exactly the keys its train parser accepts', async () => {
    const python = await ensureLlamaFactoryPython(REPO_ROOT, { log: (l) => console.log(l), warn: (l) => console.warn(l) });
    const r = spawnSync(python, [join(LLAMAFACTORY_PYTHON_DIR, 'llamafactory_train_keys.py')], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const installed = JSON.parse(r.stdout) as { versions: Record<string, string>; keys: Record<string, string> };
    expect(installed.versions.llamafactory).toBe(LLAMAFACTORY_VERSION);
    const ours = LLAMAFACTORY_KEYS as Record<string, string>;
    const missing = Object.keys(installed.keys).filter((k) => !(k in ours)).sort();
    const unknown = Object.keys(ours).filter((k) => !(k in installed.keys)).sort();
    const regroup = 'regenerate: artifacts/env/llamafactory/bin/python libs/llamafactory/python/llamafactory_train_keys.py --ts > libs/config/src/llamafactory-keys.ts';
    expect({ missing, unknown }, regroup).toEqual({ missing: [], unknown: [] });
    expect(ours, regroup).toEqual(installed.keys);
    // Spot checks that the introspection reads the right classes.
    expect(installed.keys).toMatchObject({ template: 'data', lora_rank: 'finetuning', model_name_or_path: 'model', learning_rate: 'hf_training', overwrite_output_dir: 'training' });
  }, 900_000);
});

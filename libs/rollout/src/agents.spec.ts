import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackedTempDirs } from '../../../test/support/temp-dirs';
import { agentVersion } from './agents';

const tempDir = trackedTempDirs();
const ROOT = resolve(__dirname, '../../..');

describe('agentVersion', () => {
  afterEach(() => vi.unstubAllEnvs());

  it.each(['opencode', 'claude'])('reads the real %s CLI version and leaves nothing in the temp dir', async (bin) => {
    const temp = tempDir(join(tmpdir(), 'agent-version-'));
    vi.stubEnv('TMPDIR', temp);
    // OpenCode writes .cache, .config and .local into its HOME at start; a version check must not leave them behind.
    expect(await agentVersion(join(ROOT, 'node_modules/.bin', bin))).toMatch(/^\d+\.\d+\.\d+/);
    expect(readdirSync(temp)).toEqual([]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createTempWorkspace, startCacheServer, type CacheServer, type TempWorkspace } from './harness';

// Apart from harness.ts because it registers vitest hooks: the benches use harness.ts outside vitest.

export interface ClonesSharingACache {
  a: TempWorkspace;
  b: TempWorkspace;
  server: CacheServer;
  /** The env that points nx at the server. */
  remote: NodeJS.ProcessEnv;
}

/**
 * Two copies of the workspace (`<prefix>a-`, `<prefix>b-`) and the project's cache server between
 * them, made before the enclosing describe block's tests and removed after them. The fields are set
 * once its beforeAll has run.
 */
export function clonesSharingACache(prefix: string, token: string): ClonesSharingACache {
  const clones = {} as ClonesSharingACache;
  beforeAll(async () => {
    clones.a = createTempWorkspace({ prefix: `${prefix}a-` });
    clones.b = createTempWorkspace({ prefix: `${prefix}b-` });
    clones.server = await startCacheServer(join(clones.a.root, '.remote-cache-server'), token);
    clones.remote = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: clones.server.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token };
  });
  afterAll(async () => {
    await clones.server?.stop();
    clones.a?.remove();
    clones.b?.remove();
  });
  return clones;
}

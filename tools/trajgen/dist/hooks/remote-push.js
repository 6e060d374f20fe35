// Generated from tools/trajgen/src/hooks/remote-push.ts by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.pushLocalHitsToRemote = pushLocalHitsToRemote;
const node_crypto_1 = require("node:crypto");
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const LOCAL_HIT = new Set(['local-cache', 'local-cache-kept-existing']);
function nxInternals() {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const native = require('nx/src/native');
    const { cacheDir } = require('nx/src/utils/cache-directory');
    const { workspaceRoot } = require('nx/src/utils/workspace-root');
    const { getDbConnection } = require('nx/src/utils/db-connection');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const local = new native.NxCache(workspaceRoot, cacheDir, getDbConnection());
    const remote = new native.HttpRemoteCache();
    return { cacheDir, get: (h) => local.get(h), store: (h, d, t, c) => remote.store(h, d, t, c) };
}
async function pushLocalHitsToRemote(tasks, env = process.env, internals) {
    const server = env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
    if (!server || env.NX_SKIP_REMOTE_CACHE === 'true' || env.NX_DISABLE_REMOTE_CACHE === 'true' || env.TRAJGEN_PUSH_LOCAL_HITS === 'false')
        return [];
    const hits = tasks.filter((t) => LOCAL_HIT.has(t.status) && t.hash);
    if (hits.length === 0 && !tasks.some((t) => t.status === 'success'))
        return [];
    const nx = (internals ?? nxInternals)();
    const markers = (0, node_path_1.join)(nx.cacheDir, 'trajgen-pushed', (0, node_crypto_1.createHash)('sha256').update(server).digest('hex').slice(0, 16));
    // What Nx executed in this run with the remote configured, Nx uploaded itself: not again.
    for (const t of tasks) {
        if (t.status !== 'success' || !t.hash)
            continue;
        (0, node_fs_1.mkdirSync)(markers, { recursive: true });
        (0, node_fs_1.writeFileSync)((0, node_path_1.join)(markers, t.hash), `${t.project}:${t.target}\n`);
    }
    const pushed = [];
    for (const t of hits) {
        const marker = (0, node_path_1.join)(markers, t.hash);
        if ((0, node_fs_1.existsSync)(marker))
            continue;
        const entry = nx.get(t.hash);
        if (!entry)
            continue;
        await nx.store(t.hash, nx.cacheDir, entry.terminalOutput ?? '', entry.code);
        (0, node_fs_1.mkdirSync)(markers, { recursive: true });
        (0, node_fs_1.writeFileSync)(marker, `${t.project}:${t.target}\n`);
        pushed.push(`${t.project}:${t.target}`);
    }
    return pushed;
}

// Generated from tools/trajgen/src/plugin/fingerprint-env.ts by scripts/build-plugin.cjs (npm run build:plugin). Do not edit.
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.fingerprintEnv = fingerprintEnv;
const node_crypto_1 = require("node:crypto");
const fingerprint_cjs_1 = require("../../bin/fingerprint.cjs");
const targets_1 = require("./targets");
/**
 * Every stage fingerprint of every pipeline, as the env vars the stages
 * declare as inputs. Computed in the Nx process before any task is hashed
 * (preTasksExecution): one pass per pipeline, no process per stage. A
 * pipeline whose fingerprint cannot be computed gets a value that never
 * matches a cache entry, so its stages run (and report what is wrong)
 * instead of being restored from a cache they might not match.
 */
async function fingerprintEnv(workspaceRoot, warn) {
    const env = {};
    // Pipelines sharing a task pool or a base model: each tree is walked once per pass.
    const trees = new Map();
    for (const pipeline of (0, targets_1.listPipelines)(workspaceRoot)) {
        let digests;
        try {
            digests = await (0, fingerprint_cjs_1.pipelineFingerprints)(workspaceRoot, pipeline, trees);
        }
        catch (error) {
            warn(`could not fingerprint pipeline ${pipeline}; its stages will run instead of using the cache`, error);
            const unmatched = `unfingerprinted-${(0, node_crypto_1.randomUUID)()}`;
            digests = Object.fromEntries(targets_1.STAGES.map((s) => [s, unmatched]));
        }
        for (const [stage, digest] of Object.entries(digests))
            env[(0, fingerprint_cjs_1.fingerprintEnvName)(pipeline, stage)] = digest;
    }
    return env;
}

#!/usr/bin/env node
'use strict';
/**
 * What each stage of a pipeline depends on beyond the files Nx sees.
 *
 * The plugin's preTasksExecution hook computes every stage of every pipeline
 * at once, in the Nx process (pipelineFingerprints), and hands each digest to
 * Nx as an env var that the stage declares as an `{env}` input
 * (fingerprintEnvName): no process per stage per hash. For a look by hand:
 *   node tools/trajgen/bin/fingerprint.cjs <pipeline> <stage>
 * prints what goes into one stage's digest.
 *
 * Why not plain file inputs:
 *  - Nx hashes every target's options of a project and all bytes of an input
 *    file, so config.yaml as a file input would rerun every stage on any edit
 *    (a comment, a write-back into runtime_info). Here each stage hashes only
 *    the parsed keys it reads (stage-graph.json), canonicalised.
 *  - The ledger, task pools outside the workspace and other gitignored state
 *    must really be hashed (Nx never hashes gitignored files); this reads them
 *    from disk directly.
 *
 * Plain CommonJS (no TypeScript transpiler): it runs on every Nx command.
 */
const { readFileSync, statSync, readdirSync, existsSync } = require('node:fs');
const { join, resolve, relative } = require('node:path');
const { createHash } = require('node:crypto');
const stageGraph = require('../stage-graph.json');
const { resolveConfigPathRaw } = require('../../../libs/config/src/config-paths.cjs');
const { findTaskRoot, parseManifestText } = require('../../../libs/tasks/src/task-root.cjs');
const { effectiveLedgerDigest, effectiveDigestOf, postgresLedgerDigest } = require('../../../libs/ledger/src/ledger-digest.cjs');
const { sha256: sha, sortKeysDeep: canonical } = require('../../../libs/core/src/digest.cjs');
const { atomicWriteFileSync } = require('../../../libs/core/src/atomic.cjs');
// The schema's defaults of the keys read here (libs/config: a spec keeps the JSON equal to the zod schema).
const DEFAULTS = require('../../../libs/config/src/fingerprint-defaults.json');

let workspaceRoot = resolve(__dirname, '../../..');

function pick(obj, dotted) {
  let v = obj;
  for (const k of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[k];
  }
  return v;
}

function fileSig(path) {
  try {
    return sha(readFileSync(path));
  } catch {
    return 'absent';
  }
}

/**
 * Content digests, remembered by (device, inode, size, mtime) in
 * artifacts/<p>/cache/fingerprint-content.json so that hashing on every Nx
 * command reads only files that changed. What is printed is content, never an
 * mtime: a fresh clone (or another machine) computes the same fingerprint and
 * gets remote-cache hits.
 */
let contentCache;
let contentCacheFile;
let contentCacheDirty = false;

function loadContentCache(pipeline) {
  contentCacheFile = join(workspaceRoot, 'artifacts', pipeline, 'cache', 'fingerprint-content.json');
  try {
    contentCache = JSON.parse(readFileSync(contentCacheFile, 'utf8'));
  } catch {
    contentCache = {};
  }
}

function saveContentCache() {
  if (!contentCacheDirty || !contentCacheFile) return;
  try {
    atomicWriteFileSync(contentCacheFile, JSON.stringify(contentCache), { durable: false });
  } catch {
    /* a cache: losing it only costs re-reading */
  }
}

function contentSig(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 'absent';
  }
  if (st.isDirectory()) return 'dir';
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const hit = contentCache && contentCache[path];
  if (hit && hit.k === key) return hit.d;
  const d = fileSig(path);
  if (contentCache) {
    contentCache[path] = { k: key, d };
    contentCacheDirty = true;
  }
  return d;
}

/**
 * Tree digests already computed in this pass over the pipelines (absolute path → digest): pipelines that
 * share a task pool or a base model walk it once per command, not once each.
 */
let treeMemo;

/** Every file below `path` (sorted, relative) with its content digest, up to a few thousand entries. */
function treeSig(path) {
  if (treeMemo && treeMemo.has(path)) return treeMemo.get(path);
  const digest = walkTreeSig(path);
  if (treeMemo) treeMemo.set(path, digest);
  return digest;
}

function walkTreeSig(path) {
  const parts = [];
  const walk = (dir, depth) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      parts.push(`${relative(path, dir)}:unreadable`);
      return;
    }
    for (const e of entries) {
      if (parts.length > 5000) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < 6) walk(p, depth + 1);
      } else {
        parts.push(`${relative(path, p)}:${contentSig(p)}`);
      }
    }
  };
  if (!existsSync(path)) return 'absent';
  if (!statSync(path).isDirectory()) return contentSig(path);
  walk(path, 0);
  return sha(parts.join('\n'));
}

/**
 * conversion.from_jobs: every trial of every listed Harbor job dir by content —
 * the files convert reads (libs/convert memo.ts rawInputFiles: config.json,
 * result.json, agent/litellm-trajectory.jsonl, agent/trajectory*.json,
 * agent/completions/*.json) — keyed by job and trial name, never by path or
 * mtime. A new or changed trial changes it; nothing new leaves it as it was.
 */
function jobDirsSig(pipeline, config) {
  const dirs = pick(config, 'conversion.from_jobs');
  if (!Array.isArray(dirs) || !dirs.length) return 'none';
  const h = createHash('sha256');
  for (const d of dirs) {
    const jobDir = resolveConfigPathRaw(workspaceRoot, pipeline, String(d));
    const job = jobDir.split('/').filter(Boolean).pop();
    if (!existsSync(jobDir)) {
      h.update(`${job}:absent\n`);
      continue;
    }
    h.update(`${job}|${contentSig(join(jobDir, 'result.json'))}\n`);
    let trials = [];
    try {
      trials = readdirSync(jobDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
    } catch {
      h.update(`${job}:unreadable\n`);
    }
    for (const t of trials) {
      const dir = join(jobDir, t);
      const files = ['config.json', 'result.json'];
      const list = (sub, keep) => {
        try {
          return readdirSync(join(dir, sub)).filter(keep).sort().map((n) => `${sub}/${n}`);
        } catch {
          return [];
        }
      };
      files.push(...list('agent', (n) => n === 'litellm-trajectory.jsonl' || /^trajectory(\..+)?\.json$/.test(n)), ...list('agent/completions', (n) => n.endsWith('.json')));
      for (const f of files) h.update(`${job}/${t}/${f}:${contentSig(join(dir, f))}\n`);
    }
  }
  return h.digest('hex');
}

function taskSourceSig(pipeline, config) {
  const ts = (config && config.task_source) || {};
  const source = resolveConfigPathRaw(workspaceRoot, pipeline, ts.path || DEFAULTS['task_source.path']);
  const manifestName = ts.manifest || DEFAULTS['task_source.manifest'];
  const root = findTaskRoot(source, manifestName);
  if (!root) return { source: existsSync(source) ? 'no task root' : 'absent', root: 'none' };
  const manifestPath = join(root, manifestName);
  let ids = [];
  let manifest = 'absent';
  try {
    const text = readFileSync(manifestPath, 'utf8');
    manifest = sha(text);
    ids = parseManifestText(text);
  } catch {
    if (ts.allow_unverified) {
      try {
        ids = readdirSync(root).sort();
      } catch {
        ids = [];
      }
    }
  }
  // Every listed task by content (prepare checksums the batch itself, this decides whether it must run).
  const h = createHash('sha256');
  for (const id of ids) {
    if (id.includes('/') || id.includes('..')) continue;
    h.update(`${id}|${treeSig(join(root, id))}\n`);
  }
  return { root: relative(workspaceRoot, root), manifest, tasks: h.digest('hex') };
}

function extra(kind, pipeline, config) {
  const artifacts = join(workspaceRoot, 'artifacts', pipeline);
  const resolvePath = (v) => resolveConfigPathRaw(workspaceRoot, pipeline, v);
  switch (kind) {
    case 'task_source':
      return taskSourceSig(pipeline, config);
    case 'from_jobs':
      return jobDirsSig(pipeline, config);
    case 'ledger_state': {
      if (pick(config, 'ledger.backend') !== 'postgres') return effectiveLedgerDigest(artifacts);
      // The shared ledger: the database answers a cheap digest (a promise; main awaits it).
      const urlEnv = pick(config, 'ledger.postgres.url_env') || DEFAULTS['ledger.postgres.url_env'];
      return postgresLedgerDigest(process.env[urlEnv], pipeline, 5000).then((current) => effectiveDigestOf(artifacts, current));
    }
    case 'exclude_repos': {
      const f = pick(config, 'conversion.exclude_repos_file');
      const file = f === undefined ? DEFAULTS['conversion.exclude_repos_file'] : f;
      return file === '' ? 'disabled' : fileSig(resolvePath(file));
    }
    case 'tokenizer_config': {
      const f = pick(config, 'scoring.tokenizer_config');
      return f ? fileSig(resolvePath(f)) : 'none';
    }
    case 'dataset_source': {
      const f = pick(config, 'dataset.local_path');
      return f ? treeSig(resolvePath(f)) : 'none';
    }
    case 'base_model': {
      const m = pick(config, 'training.model_name_or_path');
      if (typeof m !== 'string') return 'none';
      const p = resolvePath(m);
      return existsSync(p) ? treeSig(p) : `hub:${m}`;
    }
    default:
      throw new Error(`unknown fingerprint kind ${kind}`);
  }
}

/**
 * The parsed config.yaml, remembered by (device, inode, size, mtime) in
 * artifacts/<p>/cache/fingerprint-config.json: Nx runs this once per stage on
 * every command, and loading the YAML parser is a third of its cost.
 */
function readConfig(pipeline, configFile) {
  const st = statSync(configFile);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const cacheFile = join(workspaceRoot, 'artifacts', pipeline, 'cache', 'fingerprint-config.json');
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8'));
    if (cached.key === key) return cached.config;
  } catch {
    /* no cache yet */
  }
  const config = require('yaml').parse(readFileSync(configFile, 'utf8')) || {};
  try {
    atomicWriteFileSync(cacheFile, JSON.stringify({ key, config }), { durable: false });
  } catch {
    /* a cache: parsing again next time is fine */
  }
  return config;
}

async function stageDescription(pipeline, stage, config, configUnreadable) {
  const spec = stageGraph.targets[stage];
  let configPart = {};
  if (configUnreadable) configPart = { unparsable: configUnreadable };
  else for (const key of spec.config) configPart[key] = canonical(pick(config, key));
  const out = { stage, config: sha(JSON.stringify(configPart)) };
  // await: the shared (PostgreSQL) ledger's digest comes from the database.
  for (const kind of spec.fingerprint) out[kind] = await extra(kind, pipeline, config);
  return out;
}

/**
 * What goes into each stage's digest, for every stage of one pipeline: one
 * config read, one content-cache load and save.
 */
async function describePipeline(root, pipeline, stages = stageGraph.stages, trees = undefined) {
  workspaceRoot = root;
  treeMemo = trees;
  const configFile = join(workspaceRoot, 'pipelines', pipeline, 'config.yaml');
  let config;
  let configUnreadable;
  try {
    config = readConfig(pipeline, configFile);
  } catch {
    // An unreadable config: the stage will fail with a clear error; hash the bytes.
    config = undefined;
    configUnreadable = fileSig(configFile);
  }
  if (stages.some((s) => stageGraph.targets[s].fingerprint.length)) loadContentCache(pipeline);
  const out = {};
  for (const stage of stages) out[stage] = await stageDescription(pipeline, stage, config, configUnreadable);
  saveContentCache();
  contentCache = undefined;
  contentCacheFile = undefined;
  contentCacheDirty = false;
  treeMemo = undefined;
  return out;
}

/**
 * stage → sha256 of its description, for every stage of one pipeline. `trees` (a Map, optional) carries tree
 * digests from one pipeline to the next within one pass.
 */
async function pipelineFingerprints(root, pipeline, trees = undefined) {
  const described = await describePipeline(root, pipeline, stageGraph.stages, trees);
  const out = {};
  for (const [stage, d] of Object.entries(described)) out[stage] = sha(JSON.stringify(d));
  return out;
}

/**
 * The env var a stage's digest travels in (its `{env}` input). Characters
 * that cannot be in a portable name are written as _xHH_, so two pipeline
 * names never share a variable.
 */
function fingerprintEnvName(pipeline, stage) {
  const safe = (s) => s.replace(/[^A-Za-z0-9]/g, (c) => `_x${c.charCodeAt(0).toString(16)}_`);
  return `TRAJGEN_FINGERPRINT_${safe(stage)}__${safe(pipeline)}`;
}

async function main() {
  const [pipeline, stage] = process.argv.slice(2);
  if (!pipeline || !stageGraph.targets[stage]) {
    process.stderr.write('usage: fingerprint.cjs <pipeline> <stage>\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify((await describePipeline(workspaceRoot, pipeline, [stage]))[stage]) + '\n');
}

module.exports = { pipelineFingerprints, describePipeline, fingerprintEnvName };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`fingerprint: ${error && error.message}\n`);
    process.exit(1);
  });
}

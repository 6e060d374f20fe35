'use strict';
/**
 * Canonical JSON and hashing, in plain CommonJS so that the Nx plugin's
 * fingerprint (tools/trajgen/bin/fingerprint.cjs, no transpiler) and
 * digest.ts use the same code.
 */
const { createHash } = require('node:crypto');

/** `value` with object keys sorted at every level and undefined members dropped (Dates kept as they are). */
function sortKeysDeep(value) {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out = {};
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

/**
 * JSON with object keys sorted at every level, so that equal values always
 * serialise to equal strings (JSON.stringify keeps insertion order).
 */
function stableStringify(value) {
  return JSON.stringify(sortKeysDeep(value));
}

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function digestValue(value) {
  return sha256(stableStringify(value));
}

module.exports = { sortKeysDeep, stableStringify, sha256, digestValue };

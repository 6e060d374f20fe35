'use strict';
/**
 * Replacing a file atomically, in plain CommonJS so that the plugin's
 * fingerprint (tools/trajgen/bin/fingerprint.cjs, no transpiler) and fs.ts
 * use the same code.
 */
const { closeSync, fsyncSync, openSync, renameSync, writeFileSync, mkdirSync, rmSync } = require('node:fs');
const { dirname, basename, join } = require('node:path');
const { randomBytes } = require('node:crypto');

/** Write and fsync a (temp) file; on any error (a full disk) the file is removed before the error is rethrown. */
function writeFileDurablySync(path, data) {
  const fd = openSync(path, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
}

function fsyncDirSync(dir) {
  let fd;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replace `path` atomically: write a temp file beside it, rename. A reader
 * sees the old content or the new one, never a torn file. `durable` (the
 * default) also fsyncs the file and the directory, so a crash cannot lose it;
 * a cache that is only ever rebuilt can skip that cost (`durable: false`).
 */
function atomicWriteFileSync(path, data, options) {
  const durable = !options || options.durable !== false;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  if (durable) writeFileDurablySync(tmp, data);
  else {
    try {
      writeFileSync(tmp, data);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw error;
    }
  }
  try {
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  if (durable) fsyncDirSync(dir);
}

module.exports = { atomicWriteFileSync, writeFileDurablySync, fsyncDirSync };

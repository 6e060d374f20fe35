import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

// The synchronous helpers live in CommonJS so that the plugin's fingerprint (bin/fingerprint.cjs) shares them.
export { stableStringify, sortKeysDeep, sha256, digestValue } from './digest.cjs';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

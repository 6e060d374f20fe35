import { isMap, isPair, isScalar, isSeq, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import { findLiteralSecrets, isSecretBearingKey } from '@trajgen/config';

export const REDACTED = '';
const REDACTED_WORD = '<redacted>';

export interface Redaction {
  /** The config with every secret-bearing value blanked. */
  text: string;
  /** Key paths (dotted) whose values were blanked, and comments that were scrubbed. */
  blanked: string[];
}

/** A word that by itself looks like a secret (API key, token, bearer, URL with a password). */
function looksSecret(word: string): boolean {
  return findLiteralSecrets(word).length > 0;
}

/** `api_key: sk-…`, `token=…` in free text (comments): the value after a secret-bearing key. */
const KEY_VALUE_IN_TEXT = /\b([A-Za-z][A-Za-z0-9_-]*)(\s*[:=]\s*)(["']?)([^\s"'#,]+)\3/g;

/** Scrub a comment: secret-looking words and values of secret-bearing keys become `<redacted>`. */
export function scrubText(text: string): { text: string; changed: boolean } {
  let changed = false;
  let out = text.replace(KEY_VALUE_IN_TEXT, (all, key: string, sep: string, quote: string, value: string) => {
    if (isSecretBearingKey(key) && value !== REDACTED_WORD && !/^(""|''|null|~)$/.test(value)) {
      changed = true;
      return `${key}${sep}${quote}${REDACTED_WORD}${quote}`;
    }
    return all;
  });
  out = out.replace(/[^\s"'`()<>[\]{},;]+/g, (word) => {
    if (word === REDACTED_WORD || !looksSecret(word)) return word;
    changed = true;
    return REDACTED_WORD;
  });
  return { text: out, changed };
}

function blankAll(node: unknown, path: string, blanked: string[]): void {
  if (isScalar(node)) {
    if (node.value !== null && node.value !== '' && node.value !== undefined) {
      node.value = REDACTED;
      blanked.push(path);
    }
  } else if (isMap(node)) {
    for (const pair of node.items) blankAll(pair.value, `${path}.${String(isScalar(pair.key) ? pair.key.value : '?')}`, blanked);
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => blankAll(item, `${path}[${i}]`, blanked));
  }
}

function keyPath(ancestors: readonly unknown[], key: unknown): string {
  const parts: string[] = [];
  for (const a of ancestors) if (isPair(a) && isScalar(a.key)) parts.push(String(a.key.value));
  if (key !== undefined) parts.push(String(key));
  return parts.join('.');
}

function scrubComments(doc: Document, blanked: string[]): void {
  const scrub = (holder: { comment?: string | null; commentBefore?: string | null }, where: string) => {
    for (const field of ['comment', 'commentBefore'] as const) {
      const c = holder[field];
      if (!c) continue;
      const s = scrubText(c);
      if (s.changed) {
        holder[field] = s.text;
        blanked.push(`${where} (comment)`);
      }
    }
  };
  scrub(doc, '(document)');
  visit(doc, {
    Node(_key, node, path) {
      scrub(node as YamlNode & { comment?: string | null; commentBefore?: string | null }, keyPath(path, undefined) || '(top level)');
    },
  });
}

/**
 * The config as archived: every value under a secret-bearing key
 * (`isSecretBearingKey`: api_key, token, password, … but not `*_env` names)
 * blanked, every value that looks like a secret wherever it sits
 * (`findLiteralSecrets`) blanked, and comments scrubbed of the same — example
 * configs carry commented-out keys. Formatting and other comments are kept.
 * Text that is not valid YAML is scrubbed line by line as free text.
 */
export function redactConfigText(text: string): Redaction {
  const blanked: string[] = [];
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length) {
    const lines = text.split('\n').map((line, i) => {
      const s = scrubText(line);
      if (s.changed) blanked.push(`line ${i + 1}`);
      return s.text;
    });
    return { text: lines.join('\n'), blanked };
  }
  visit(doc, {
    Pair(_key, pair, path) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key !== undefined && isSecretBearingKey(key)) {
        blankAll(pair.value, keyPath(path, key), blanked);
        return visit.SKIP;
      }
      return undefined;
    },
    Scalar(key, node, path) {
      if (key === 'key') return;
      if (typeof node.value === 'string' && node.value !== REDACTED && findLiteralSecrets(node.value).length) {
        node.value = REDACTED;
        blanked.push(keyPath(path, undefined) || '(value)');
      }
    },
  });
  scrubComments(doc, blanked);
  // Nothing to blank: the archived copy is the file byte for byte.
  if (!blanked.length) return { text, blanked };
  return { text: doc.toString({ lineWidth: 0 }), blanked: [...new Set(blanked)] };
}

/**
 * Secret-looking tokens inside free text (conversations, tool output,
 * verifier logs): prefixed API keys and tokens, bearer headers, URL
 * passwords. A bare 40-hex word is not matched here (commit ids are common
 * in coding trajectories); the values of the process's secret-named
 * environment variables are matched literally instead.
 */
const SECRET_IN_TEXT =
  /\b(sk-ant-[A-Za-z0-9_-]{8,}|sk-(?:proj-)?[A-Za-z0-9_-]{16,}|hf_[A-Za-z0-9]{20,}|(?:ghp|gho|ghs|ghu|github_pat)_[A-Za-z0-9_]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,})|(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}|([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^/\s@]+@/gi;

export type TextScrubber = (text: string) => string;

/** A scrubber for free text; `env` supplies literal secret values (variables whose names look secret). */
export function textScrubber(env: NodeJS.ProcessEnv = process.env): TextScrubber {
  const literals = Object.entries(env)
    .filter(([k, v]) => !!v && v.length >= 12 && isSecretBearingKey(k.toLowerCase()))
    .map(([, v]) => v as string);
  return (text: string) => {
    let out = text.replace(SECRET_IN_TEXT, (_all, token: string | undefined, bearer: string | undefined, url: string | undefined) =>
      token ? REDACTED_WORD : bearer ? `${bearer}${REDACTED_WORD}` : `${url}${REDACTED_WORD}@`,
    );
    for (const s of literals) if (out.includes(s)) out = out.split(s).join(REDACTED_WORD);
    return out;
  };
}

import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { z } from 'zod';
import { TrajgenError, atomicWriteFileSync } from '@trajgen/core';

/** Why a contract file could not be read: not there, not JSON, or not the shape its producer writes. */
export type ContractProblem = 'missing' | 'unreadable' | 'invalid';

/** A file one stage hands to another could not be read as its contract says (message, details, hint). */
export class ContractError extends TrajgenError {
  constructor(
    message: string,
    readonly problem: ContractProblem,
    options: { hint?: string; details?: string[]; cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ContractError';
  }
}

/** How a reader names the file: workspace-relative when it lies under `root`. */
export interface ReadOptions {
  root?: string;
}

export interface Contract<S extends z.ZodType> {
  /** The file's name as the docs use it (e.g. `prepare/batch.json`). */
  readonly file: string;
  readonly schema: S;
  /** Parse and validate; a ContractError names the file, each key path, what was expected and what to do. */
  read(path: string, options?: ReadOptions): z.infer<S>;
  /** Validate, then write atomically (the value as given: key order and all). */
  write(path: string, value: z.infer<S>): void;
  /** Validate and serialise (for producers with their own write protocol). */
  text(value: z.infer<S>, path?: string): string;
}

/** `tasks[3].id` from zod's `['tasks', 3, 'id']`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(the top level)';
}

const MAX_ISSUES = 20;

function issueLines(error: z.ZodError): string[] {
  const lines = error.issues.slice(0, MAX_ISSUES).map((i) => `${keyPath(i.path)}: ${i.message}`);
  if (error.issues.length > MAX_ISSUES) lines.push(`… and ${error.issues.length - MAX_ISSUES} more`);
  return lines;
}

/**
 * One contract: `producer` is the stage that writes the file (it names the
 * fix: run it again), `consumers` who read it (the message says which
 * contract broke).
 */
export function defineContract<S extends z.ZodType>(spec: { file: string; schema: S; producer: string; consumers: string }): Contract<S> {
  const { file, schema, producer, consumers } = spec;
  // The pipeline is in a workspace-relative path (artifacts/<p>/…): name the exact command.
  const target = (shown: string) => `nx run ${/^artifacts\/([^/]+)\//.exec(shown)?.[1] ?? '<pipeline>'}:${producer}`;
  const rerun = (shown: string) => `Run the ${producer} stage again to rewrite it (${target(shown)}).`;
  const validate = (value: unknown, shown: string, writing: boolean): z.infer<S> => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new ContractError(`${shown} does not follow the ${producer} → ${consumers} contract (${file})`, 'invalid', {
      details: issueLines(parsed.error),
      hint: writing ? `The ${producer} stage built a ${file} its readers would reject: a bug in trajgen, or libs/contracts is out of step with it.` : rerun(shown),
    });
  };
  const text = (value: z.infer<S>, path: string = file): string => {
    validate(value, path, true);
    return JSON.stringify(value, null, 2) + '\n';
  };
  return {
    file,
    schema,
    text,
    read(path, options = {}) {
      const shown = options.root ? relative(options.root, path) || path : path;
      if (!existsSync(path)) {
        throw new ContractError(`${shown} does not exist`, 'missing', { hint: `The ${producer} stage writes it: run it first (${target(shown)}).` });
      }
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(path, 'utf8'));
      } catch (error) {
        throw new ContractError(`${shown} is not valid JSON (${(error as Error).message.split('\n')[0]})`, 'unreadable', { hint: rerun(shown), cause: error });
      }
      return validate(value, shown, false);
    },
    write(path, value) {
      atomicWriteFileSync(path, text(value, path));
    },
  };
}

/** Non-negative integer counts. */
export const count = () => z.number().int().nonnegative();
/** `{key: count}`. */
export const counts = () => z.record(z.string(), count());

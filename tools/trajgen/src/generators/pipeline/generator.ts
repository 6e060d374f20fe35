import { isAbsolute, join, relative, resolve } from 'node:path';
import { formatFiles, generateFiles, type Tree } from '@nx/devkit';
import { RESERVED_PIPELINE_NAMES, SAFE_NAME } from '@trajgen/config';
import type { PipelineGeneratorSchema } from './schema';

export default async function pipelineGenerator(tree: Tree, schema: PipelineGeneratorSchema) {
  const name = schema.name;
  if (!SAFE_NAME.test(name)) throw new Error(`Pipeline name "${name}" must be letters, digits, ".", "_" or "-"`);
  if (RESERVED_PIPELINE_NAMES.has(name)) throw new Error(`Pipeline name "${name}" is reserved (it is a folder under artifacts/)`);
  const root = join('pipelines', name);
  if (tree.exists(join(root, 'config.yaml'))) throw new Error(`${root}/config.yaml already exists`);
  // Paths given on the command line are relative to where nx runs (the workspace); config paths to the pipeline folder.
  const fromJobs = (schema.fromJobs ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (isAbsolute(p) ? p : relative(join(tree.root, root), resolve(tree.root, p))));
  generateFiles(tree, join(__dirname, 'files'), root, {
    fromJobs,
    name,
    description: schema.description ?? '',
    scaffold: schema.scaffold ?? 'claude-code',
    engine: schema.engine ?? 'harbor',
    tmpl: '',
  });
  await formatFiles(tree);
}

import type { StageIO } from '@trajgen/core';
import type { LoadedPipeline } from '@trajgen/config';
import { registerDataset } from './register';

/** Options of `nx run <p>:register` (tools/trajgen/src/executors/register/schema.json): none. */
export type RegisterStageOptions = Record<string, never>;

/** The register stage (`nx run <p>:register`): the dataset into LLaMA-Factory's dataset_info.json, and the receipt train reads. Returns the summary line. */
export async function runRegister(pipeline: LoadedPipeline, io: StageIO, _options: RegisterStageOptions = {}): Promise<string> {
  const result = await registerDataset(pipeline);
  for (const warning of result.warnings) io.warn(warning);
  return result.summary;
}

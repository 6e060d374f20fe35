import { delimiter, join } from 'node:path';
import { TrajgenError, type StageIO } from '@trajgen/core';
import { logStamp, runTrainingProcess, trainingFailure, type TrainingProcessResult } from '@trajgen/llamafactory';
import { TRAINER_PYTHON_DIR, ensureTrainerEnv } from './env';

/** Templates the embedded trainer renders (libs/trainer/python/trajgen_trainer/template.py). */
export const HF_SUPPORTED_TEMPLATES = ['qwen3_nothink', 'qwen'] as const;

export interface HfRun {
  result: TrainingProcessResult;
  logFile: string;
  python: string;
}

/** Environment of the trainer process: our package on PYTHONPATH, never a download. */
export function hfTrainerEnv(): Record<string, string> {
  return {
    PYTHONPATH: [TRAINER_PYTHON_DIR, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONUNBUFFERED: '1',
    TOKENIZERS_PARALLELISM: 'false',
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    HF_HUB_DISABLE_TELEMETRY: '1',
    TRANSFORMERS_VERBOSITY: 'error',
  };
}

/**
 * Run the embedded trainer on a generated training YAML: the Python env is
 * created on first use; output teed to logs/<run>-<ts>.log; progress from
 * trainer_log.jsonl. A TrainerError from Python becomes the message.
 */
export async function runHfTrainer(options: {
  workspaceRoot: string;
  artifacts: string;
  logsDir: string;
  yamlPath: string;
  outputDir: string;
  run: string;
  io: Pick<StageIO, 'log' | 'warn'>;
}): Promise<HfRun> {
  const { python } = await ensureTrainerEnv(options.workspaceRoot, options.io);
  const logFile = join(options.logsDir, `${options.run}-${logStamp()}.log`);
  options.io.log(`Launching the embedded trainer: ${python} -m trajgen_trainer train ${options.yamlPath}`);
  const result = await runTrainingProcess({
    command: python,
    args: ['-m', 'trajgen_trainer', 'train', options.yamlPath],
    env: hfTrainerEnv(),
    cwd: options.artifacts,
    logFile,
    trainerLog: join(options.outputDir, 'trainer_log.jsonl'),
    io: options.io,
    echo: (line) => !!line.trim() && !/^\s*(warnings\.warn|super\(\)\.__init__|Writing model shards)/.test(line) && !/\d+%\|/.test(line),
  });
  if (result.exitCode !== 0) {
    const errorAt = result.outputTail.findIndex((l) => l.startsWith('error: '));
    if (errorAt >= 0) {
      const hint = result.outputTail[errorAt + 1]?.trim().startsWith('->') ? result.outputTail[errorAt + 1].trim().slice(2).trim() : undefined;
      throw new TrajgenError(`The embedded trainer stopped: ${result.outputTail[errorAt].slice('error: '.length)}`, {
        hint: `${hint ? hint + ' ' : ''}Full output: ${logFile}`,
      });
    }
    throw trainingFailure({ what: 'The embedded trainer', result, logFile, workspaceRoot: options.workspaceRoot });
  }
  return { result, logFile, python };
}

/**
 * @trajgen/oracle — the scripted, deterministic demo/test model.
 *
 * NOT A REAL MODEL. The oracle is an OpenAI- and Anthropic-compatible HTTP
 * endpoint that "solves" Harbor tasks by replaying their reference solution
 * through the agent's own shell tool. It exists for the demo pipeline and the
 * tests; real runs point `rollout.llm_api` at a real endpoint.
 *
 * ```ts
 * const oracle = await startOracle({
 *   tasks: { 'add-greeting': 'pipelines/demo/tasks/add-greeting' },   // id → task dir
 *   latencyMs: 0,
 *   faults: { 'fix-off-by-one': 'wrong_answer' },
 * });
 * oracle.url            // http://127.0.0.1:<port>  (Anthropic root; OpenAI base is `${url}/v1`)
 * oracle.stats()        // generation requests per trial, count_tokens, faults fired
 * await oracle.stop();
 * ```
 *
 * Endpoints: `POST /v1/messages` (+ `/v1/messages/count_tokens`: a token
 * estimate), `POST /v1/chat/completions` (also `/chat/completions`),
 * `GET /v1/models`, streaming (SSE, each protocol's event sequence) and not;
 * `GET /__oracle/stats` (= stats()) and `POST /__oracle/reset` for tests.
 *
 * Policy (stateless per request):
 *  - the task comes from the `x-trajgen-trial` header (trial name
 *    `<task id[:32]>__<suffix>`, Harbor-style, or the bare id), else from the
 *    instruction text found in the user messages;
 *  - the shell tool is found in the request's `tools` (Claude Code `Bash`,
 *    OpenCode `bash`, OpenHands `terminal`/`execute_bash`, else any tool with a
 *    required string `command`); its required keys are filled from its schema;
 *  - the step is the number of calls of that tool already in the conversation:
 *    (1) `ls -la`, (2) the steps of `solution/solve.sh` (blank and comment
 *    lines separate steps; the comment above a block is its description;
 *    heredocs stay intact), (3) `[metadata] oracle_check` of task.toml if set,
 *    (4) a text summary with no tool call;
 *  - every turn carries reasoning (Anthropic `thinking` block with a
 *    `signature`; OpenAI `reasoning_content`) and realistic `usage`;
 *  - requests without a shell tool are side calls (warm-ups, titles, Claude
 *    Code's topic check): short plain text;
 *  - ids, signatures and `created` derive from a hash of (trial, request
 *    body): the same request always gets the same bytes.
 *
 * Faults (per task id, one or a list):
 *  - `http_429` / `http_500`: the FIRST generation request of each trial
 *    fails once with that status (429 carries `retry-after: 1`); later ones
 *    succeed, so an agent that retries recovers;
 *  - `disconnect`: the first (remaining) generation response of each trial
 *    is cut mid-way once (half the SSE events, or half the JSON body, then
 *    the socket is destroyed);
 *  - `slow`: `slowMs` (default 2000) extra latency on every response;
 *  - `wrong_answer`: the plan runs `solution/wrong.sh` instead of solve.sh
 *    when the task has one, else it skips the solution steps (looks around,
 *    runs the check, claims success) — the verifier then scores 0.0.
 * One-shot faults of a list fire in list order, one per request, each once
 * per trial.
 *
 * `scripts/try-agent.ts` runs one demo task with the REAL Claude Code or
 * OpenCode CLI through the builtin proxy against the oracle and checks reward
 * and lines == requests (see its header for flags).
 */
export { startOracle, ORACLE_FAULTS, NO_TRIAL, type OracleOptions, type OracleStats, type RunningOracle, type OracleFault } from './server';
export { loadOracleTask, loadOracleTasks, splitShellScript, type OracleTask, type ScriptStep } from './task';
export { decideTurn, readConversation, planFor, LOOK_AROUND, type Turn, type Conversation, type WireProtocol } from './policy';
export { findShellTool, shellToolInput, toolSpecs, SHELL_TOOL_NAMES, type ToolSpec } from './tools';
export { matchTask, trialPrefix } from './registry';
export { anthropicMessage, anthropicEvents, openaiCompletion, openaiChunks, encodeSse, stableId, estimateTokens } from './render';

import type { NormalisedUsage } from './usage';

/**
 * One line of `<trial>/agent/litellm-trajectory.jsonl` (the LegoX/harbor LiteLLM
 * logger's format), one per generation call (`/v1/messages`, `/v1/chat/completions`):
 *
 * - `request_body` is the body exactly as the client sent it (Anthropic-native
 *   for Claude Code, OpenAI chat for OpenCode);
 * - `response_body` is the response in the SAME protocol's non-streaming shape
 *   (streams reassembled: Anthropic `message` with `content` blocks, OpenAI
 *   `chat.completion` with `choices`); on failure the partial response, the
 *   upstream's error body, or null;
 * - `failure` only when `success` is false.
 */
export interface TrajectoryLine {
  session_id: string;
  success: boolean;
  /** Epoch ms when the proxy received the request. */
  request_time: number;
  /** ISO 8601 of request_time. */
  timestamp: string;
  duration_ms: number;
  request_body: unknown;
  response_body: unknown;
  usage: NormalisedUsage | null;
  failure?: LineFailure;
  /** The client's path without query, e.g. "/v1/messages". */
  endpoint: string;
  stream: boolean;
}

export type FailureType =
  | 'upstream_http_error'
  | 'upstream_unreachable'
  | 'upstream_disconnect'
  | 'timeout'
  | 'client_disconnect'
  | 'incomplete_stream'
  | 'stream_error'
  | 'proxy_error';

export interface LineFailure {
  error_type: FailureType;
  status_code: number | null;
  /** Redacted, at most 2000 characters. */
  message: string;
}

export function failureMessage(text: string): string {
  const t = text.trim();
  return t.length > 2000 ? `${t.slice(0, 1997)}...` : t;
}

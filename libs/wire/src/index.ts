export { AnthropicAssembler, OpenAIAssembler, assemblerFor, type StreamAssembler, type AssembledResponse, type SseEventLike } from './assemble';
export { reassembleResponse, parseSseText } from './reassemble';

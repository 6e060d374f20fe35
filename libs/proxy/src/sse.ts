/**
 * Server-sent events, split on the raw bytes so that what the proxy forwards
 * is exactly what the upstream sent, while each complete event is also parsed
 * for the log.
 */

export interface RawSseEvent {
  /** The event's bytes including its terminating blank line. */
  raw: Buffer;
  event?: string;
  /** `data:` lines joined with "\n" ('' when the event has none). */
  data: string;
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/g;

export class SseSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Feed bytes; returns the events completed by them. */
  push(chunk: Buffer): RawSseEvent[] {
    return this.pushRaw(chunk).map(parseEvent);
  }

  /** Feed bytes; returns the raw bytes of each event completed by them (nothing parsed: the proxy's hot path). */
  pushRaw(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    // latin1 maps bytes 1:1 to code units, so string offsets are byte offsets; the
    // delimiters are ASCII and cannot occur inside a UTF-8 multi-byte sequence.
    const text = this.pending.toString('latin1');
    let start = 0;
    BOUNDARY.lastIndex = 0;
    for (let m = BOUNDARY.exec(text); m; m = BOUNDARY.exec(text)) {
      const end = m.index + m[0].length;
      out.push(this.pending.subarray(start, end));
      start = end;
    }
    this.pending = start ? Buffer.from(this.pending.subarray(start)) : this.pending;
    return out;
  }

  /** Bytes after the last complete event (an unterminated event at the end of a stream). */
  rest(): Buffer {
    return this.pending;
  }
}

export function parseEvent(raw: Buffer): RawSseEvent {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of raw.toString('utf8').split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { raw, event, data: data.join('\n') };
}

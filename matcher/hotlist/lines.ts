/**
 * Splits a byte stream into text lines with their 1-based physical line numbers, without ever
 * holding more than one chunk plus a partial line. Lines come in arrays, one per chunk: an
 * async generator step costs far more than a line, so batching keeps 10M-line files fast.
 */
import { StringDecoder } from 'node:string_decoder';

/** One line of text, without its line terminator (`\n` or `\r\n`). */
export interface TextLine {
  text: string;
  /** 1-based physical line number. */
  line: number;
  /** False only for a last line that does not end with a newline. */
  terminated: boolean;
}

/** Yields the lines of `source` chunk by chunk. A leading UTF-8 BOM is dropped. */
export async function* readLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<TextLine[]> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNo = 0;
  let first = true;
  for await (const chunk of source) {
    let text = pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const out: TextLine[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      out.push({ text: text.slice(start, end), line: ++lineNo, terminated: true });
      start = nl + 1;
    }
    pending = text.slice(start);
    if (out.length > 0) yield out;
  }
  pending += decoder.end();
  if (first && pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
  if (pending.length > 0) yield [{ text: pending, line: ++lineNo, terminated: false }];
}

import { InputError } from '../../errors.js';

/**
 * Reading big JSON documents (squeeze-scenario/v1: up to 166 MB and 1.4 M event objects) without
 * materialising the parts nobody needs. A byte-level scanner follows strings and nesting, and the
 * value of any top-level key in `skipKeys` that is an array is replaced by `[]` as the bytes stream
 * past, so neither the text nor the objects of that array are ever held. The rest is handed to
 * JSON.parse, which does all the real validation.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const EMPTY_ARRAY = Buffer.from('[]');

/** What the scanner left out, so error positions can be mapped back to lines of the original file. */
export interface SkippedRegion {
  readonly key: string;
  /** Character offset in the kept text where the `[]` replacement starts. */
  readonly keptOffset: number;
  /** Newlines inside the left-out value. */
  readonly newlines: number;
  /** Elements of the left-out array. */
  readonly elements: number;
}

export interface KeptJson {
  readonly text: string;
  readonly skipped: readonly SkippedRegion[];
}

type KeyState = 'none' | 'key' | 'colon' | 'value';

/** Scans a byte stream and returns its text with the skipped top-level arrays replaced by `[]`. */
export async function readJsonSkipping(
  chunks: AsyncIterable<Buffer>,
  skipKeys: ReadonlySet<string>,
): Promise<KeptJson> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  const regions: Array<{ key: string; keptByte: number; newlines: number; elements: number }> = [];
  let inString = false;
  let escaped = false;
  let depth = 0;
  let keyState: KeyState = 'none';
  let expectKey = false;
  let keyBytes: number[] = [];
  let key = '';
  let skipping = false;
  let skipNewlines = 0;
  let skipCommas = 0;
  let skipEmpty = true;
  const keep = (b: Buffer): void => {
    if (b.length === 0) return;
    kept.push(b);
    keptBytes += b.length;
  };

  for await (const chunk of chunks) {
    let keepFrom = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inString) {
        // a key is compared raw (escapes kept), so "ev\"ents" never matches events
        if (keyState === 'key' && keyBytes.length < 256 && (escaped || c !== QUOTE)) keyBytes.push(c);
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (keyState === 'key') {
            key = Buffer.from(keyBytes).toString('utf8');
            keyState = 'colon';
          }
        }
        continue;
      }
      if (skipping) {
        if (c === NEWLINE) skipNewlines++;
        else if (c === QUOTE) inString = true;
        else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
        else if (c === COMMA && depth === 2) skipCommas++;
        else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          depth--;
          if (depth === 1) {
            skipping = false;
            const region = regions[regions.length - 1]!;
            region.newlines = skipNewlines;
            region.elements = skipEmpty ? 0 : skipCommas + 1;
            keepFrom = i + 1;
            continue;
          }
        }
        if (c > 0x20 && depth >= 2) skipEmpty = false;
        continue;
      }
      if (keyState === 'colon') {
        if (c === 0x3a) keyState = 'value';
      } else if (keyState === 'value' && c > 0x20) {
        keyState = 'none';
        if (c === OPEN_BRACKET && skipKeys.has(key)) {
          keep(chunk.subarray(keepFrom, i));
          regions.push({ key, keptByte: keptBytes, newlines: 0, elements: 0 });
          keep(EMPTY_ARRAY);
          skipping = true;
          skipNewlines = 0;
          skipCommas = 0;
          skipEmpty = true;
          depth++;
          continue;
        }
      }
      if (c === QUOTE) {
        inString = true;
        if (depth === 1 && expectKey) {
          expectKey = false;
          keyState = 'key';
          keyBytes = [];
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
        if (depth === 1 && c === OPEN_BRACE) expectKey = true;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      else if (c === COMMA && depth === 1) expectKey = true;
    }
    if (!skipping) keep(keepFrom === 0 ? chunk : chunk.subarray(keepFrom));
  }
  const all = Buffer.concat(kept, keptBytes);
  const skipped = regions.map((r) => ({
    key: r.key,
    keptOffset: all.subarray(0, r.keptByte).toString('utf8').length,
    newlines: r.newlines,
    elements: r.elements,
  }));
  return { text: all.toString('utf8'), skipped };
}

/** Parses kept JSON text; a syntax error becomes an InputError with the file's line and column. */
export function parseKeptJson(kept: KeptJson, file: string): unknown {
  try {
    return JSON.parse(kept.text);
  } catch (err) {
    const at = findSyntaxError(kept.text);
    const where = at ? lineColumn(kept, at.offset) : undefined;
    const what = at?.expected ?? (err as Error).message;
    throw new InputError(
      where
        ? `${file}:${where.line}:${where.column}: invalid JSON: ${what}`
        : `${file}: invalid JSON: ${what}`,
    );
  }
}

function lineColumn(kept: KeptJson, offset: number): { line: number; column: number } {
  const text = kept.text;
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  for (const r of kept.skipped) if (r.keptOffset < offset) line += r.newlines;
  return { line, column: offset - lineStart + 1 };
}

/**
 * A small validating recursive-descent pass, run only after JSON.parse failed, to say where and
 * what was expected (Node 20's JSON.parse messages do not always carry a position).
 */
export function findSyntaxError(text: string): { offset: number; expected: string } | undefined {
  let i = 0;
  const fail = (expected: string): never => {
    throw {
      offset: i,
      expected: `${expected}, got ${i < text.length ? JSON.stringify(text[i]) : 'end of input'}`,
    };
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t'))
      i++;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a JSON value');
  };
  const string = (): void => {
    if (text[i] !== '"') fail('a double-quoted string');
    i++;
    for (;;) {
      if (i >= text.length) fail('a closing quote');
      const ch = text[i]!;
      if (ch === '"') break;
      if (ch < ' ') fail('no control character inside a string');
      if (ch === '\\') {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) fail('a valid escape');
      }
      i++;
    }
    i++;
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!m) fail('a JSON value');
    i += m![0].length;
  };
  /** `{...}` or `[...]`: items separated by commas up to `close`. */
  const container = (close: string, item: () => void): void => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === close) {
        i++;
        return;
      } else fail(`',' or '${close}'`);
    }
  };
  const value = (depth: number): void => {
    if (depth > 512) fail('less nesting');
    ws();
    const ch = text[i];
    if (ch === '{') {
      return container('}', () => {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail("':' after a property name");
        i++;
        value(depth + 1);
      });
    }
    if (ch === '[') return container(']', () => value(depth + 1));
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    return number();
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('end of input');
    return undefined;
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'offset' in e)
      return e as { offset: number; expected: string };
    throw e;
  }
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { findSyntaxError, parseKeptJson, readJsonSkipping } from '../../src/inventory/file/json-read.js';

async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('readJsonSkipping', () => {
  const doc = {
    format: 'x',
    'ev"ents': [1],
    nested: { events: [1, 2, 3] },
    events: [{ t: 1, s: 'a ] } " \\" [' }, { t: 2, ü: '€' }, []],
    hosts: [{ id: 'h1' }],
    tail: 'événement',
  };
  const text = JSON.stringify(doc, null, 1);

  it.each([1, 2, 3, 7, 64, 1 << 20])(
    'drops only the top-level events array, in chunks of %d bytes',
    async (size) => {
      const kept = await readJsonSkipping(chunked(text, size), new Set(['events']));
      expect(JSON.parse(kept.text)).toEqual({ ...doc, events: [] });
      expect(kept.skipped).toHaveLength(1);
      expect(kept.skipped[0]).toMatchObject({ key: 'events', elements: 3 });
      expect(kept.skipped[0]!.newlines).toBe(JSON.stringify(doc.events, null, 1).split('\n').length - 1);
    },
  );

  it('keeps any JSON value exactly when nothing is skipped (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.integer({ min: 1, max: 16 }), async (value, size) => {
        const json = JSON.stringify({ a: value, events: [value, value] });
        const kept = await readJsonSkipping(chunked(json, size), new Set(['events']));
        expect(JSON.parse(kept.text)).toEqual({ a: JSON.parse(JSON.stringify(value)), events: [] });
        const none = await readJsonSkipping(chunked(json, size), new Set());
        expect(none.text).toBe(json);
      }),
      { numRuns: 200 },
    );
  });
});

describe('JSON syntax errors', () => {
  it.each([
    ['{"a": 1,}', 8, 'a double-quoted string, got "}"'],
    ['{"a": [1 2]}', 9, "',' or ']', got \"2\""],
    ['{"a": tru}', 6, 'a JSON value, got "t"'],
    ['{"a": "x', 8, 'a closing quote, got end of input'],
    ['{"a": 1} x', 9, 'end of input, got "x"'],
    ['{"a" 1}', 5, '\':\' after a property name, got "1"'],
    ['{"a": 01}', 7, "',' or '}', got \"1\""],
  ])('%s: offset %d, %s', (text, offset, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findSyntaxError(text)).toEqual({ offset, expected });
  });

  it('accepts what JSON.parse accepts', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => findSyntaxError(JSON.stringify(v, null, 2)) === undefined));
  });

  it('reports line and column in the original file', () => {
    const kept = { text: '{\n"a": [\n1,\n2 3]}', skipped: [] };
    expect(() => parseKeptJson(kept, 'f.json')).toThrow(InputError);
    expect(() => parseKeptJson(kept, 'f.json')).toThrow("f.json:4:3: invalid JSON: ',' or ']', got \"3\"");
  });
});

/**
 * The record layout the host and the core share (matcher/core/layout.ts): the core exports
 * its constants, and instantiation refuses a core whose layout is not the host's.
 */
import { describe, expect, it } from 'vitest';
import { CoreError } from '../../matcher/errors.js';
import { checkLayout, ITEM_RECORD, LAYOUT } from '../../matcher/core/layout.js';
import { coreModule, instantiateCore } from '../../matcher/core/wasm.js';

/** The raw exports of a core instance (imports stubbed: nothing here runs core code). */
function rawExports(module: WebAssembly.Module = coreModule()): WebAssembly.Exports {
  const env = { abort: (): void => undefined, formatFloat: (): number => 0 };
  return new WebAssembly.Instance(module, { env }).exports;
}

/** A valid module that exports nothing (a core built from other sources, at the extreme). */
const EMPTY_MODULE = new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));

describe('linear-memory layout', () => {
  it('the built core exports every constant of the host, with the host value', () => {
    const exports = rawExports();
    for (const [name, value] of Object.entries(LAYOUT)) {
      const g = exports[name];
      expect(g, name).toBeInstanceOf(WebAssembly.Global);
      expect((g as WebAssembly.Global).value, name).toBe(value);
    }
    expect(() => checkLayout(exports)).not.toThrow();
    expect(() => instantiateCore()).not.toThrow();
  });

  it('detects a constant whose value differs, naming both values', () => {
    const exports = rawExports();
    const doctored = { ...LAYOUT, ITEM_RECORD: ITEM_RECORD + 8, M_OK: 1 };
    let err: unknown;
    try {
      checkLayout(exports, doctored);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({ code: 'ERR_CORE' });
    const message = (err as CoreError).message;
    expect(message).toMatch(/disagree on the linear-memory layout/);
    expect(message).toContain(`ITEM_RECORD is ${ITEM_RECORD} in the core, ${ITEM_RECORD + 8} in the host`);
    expect(message).toContain('M_OK is 0 in the core, 1 in the host');
    expect(message).toMatch(/npm run build/);
  });

  it('detects a constant the core does not export', () => {
    expect(() => checkLayout(rawExports(), { ...LAYOUT, I_SOMETHING_NEW: 42 })).toThrow(/I_SOMETHING_NEW is not exported by the core \(the host has 42\)/);
  });

  it('refuses to instantiate a module without the layout', () => {
    expect(() => instantiateCore(EMPTY_MODULE)).toThrow(CoreError);
    expect(() => instantiateCore(EMPTY_MODULE)).toThrow(/QUERY_RECORD is not exported by the core/);
  });
});

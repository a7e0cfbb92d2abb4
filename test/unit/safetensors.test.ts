import { describe, expect, it } from 'vitest';
import { createRuntime, decodeSafetensors, encodeSafetensors } from '../../src/index.js';

/** A file assembled byte by byte from the format's description: u64 LE header length, JSON header, raw data. */
function fixture(header: object | string, data: number[] | Uint8Array, lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const raw = data instanceof Uint8Array ? data : new Uint8Array(Float32Array.from(data).buffer);
  const bytes = new Uint8Array(8 + json.length + raw.length);
  const length = lengthOverride ?? json.length;
  for (let i = 0; i < 8; i++) bytes[i] = Math.floor(length / 2 ** (8 * i)) & 0xff;
  bytes.set(json, 8);
  bytes.set(raw, 8 + json.length);
  return bytes;
}

describe('safetensors', () => {
  const header = {
    __metadata__: { format: 'pt' },
    'layers.0.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    'layers.0.bias': { dtype: 'F32', shape: [2], data_offsets: [24, 32] },
  };
  const values = [1, -2, 3.5, 4, 5, 6.25, 0.5, -0.5];

  it('reads a file built by hand', () => {
    const { tensors, metadata } = decodeSafetensors(fixture(header, values));
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors['layers.0.weight'].shape).toEqual([2, 3]);
    expect(Array.from(tensors['layers.0.weight'].data)).toEqual(values.slice(0, 6));
    expect(Array.from(tensors['layers.0.bias'].data)).toEqual([0.5, -0.5]);
  });

  it('reads tensors stored out of header order and a header padded with spaces', () => {
    const swapped = {
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    };
    const { tensors } = decodeSafetensors(fixture(JSON.stringify(swapped) + '   ', [7, 9]));
    expect(tensors.a.data[0]).toBe(7);
    expect(tensors.b.data[0]).toBe(9);
  });

  it('writes exactly the bytes of the format: LE length, 8-byte aligned JSON, LE float32 data', () => {
    const bytes = encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1.5, -2) } });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(0);
    expect(n % 8).toBe(0);
    const json = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(JSON.parse(json)).toEqual({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    expect(json.trimEnd()).toBe(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0]);
  });

  it('round-trips tensors through a runtime', async () => {
    const rt = await createRuntime({ backend: 'cpu' });
    const model = rt.nn.mlp([3, 4, 2]);
    const bytes = await rt.saveSafetensors(model.namedParams(), { producer: 'webgrad' });
    const loaded = rt.loadSafetensors(bytes);
    expect(Object.keys(loaded)).toEqual(Object.keys(model.namedParams()));
    for (const [name, t] of Object.entries(model.namedParams())) {
      expect(loaded[name].shape).toEqual(t.shape);
      expect(await loaded[name].data()).toEqual(await t.data());
    }
    expect(decodeSafetensors(bytes).metadata).toEqual({ producer: 'webgrad' });
  });

  it('rejects malformed files with a clear error', () => {
    const one = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(() => decodeSafetensors(new Uint8Array(5))).toThrow(/needs at least the 8-byte header length/);
    expect(() => decodeSafetensors(fixture(one, [1, 2], 1000))).toThrow(
      /header length 1000 runs past the end of the file/,
    );
    expect(() => decodeSafetensors(fixture(one, [1, 2], 2 ** 40))).toThrow(/runs past the end/);
    expect(() => decodeSafetensors(fixture('{"a": ', []))).toThrow(/not valid UTF-8 JSON/);
    expect(() => decodeSafetensors(fixture({ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, [1, 2]))).toThrow(
      /tensor 'a' has an unknown dtype "Q7"/,
    );
    expect(() => decodeSafetensors(fixture({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, [1, 2]))).toThrow(
      /'a' is F16; webgrad loads F32 tensors only/,
    );
    const overlapping = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    expect(() => decodeSafetensors(fixture(overlapping, [1, 2, 3]))).toThrow(
      /tensors 'a' and 'b' have overlapping data_offsets/,
    );
    expect(() => decodeSafetensors(fixture({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [1, 2]))).toThrow(
      /needs 12 bytes, but data_offsets \[0, 8\] hold 8/,
    );
    expect(() =>
      decodeSafetensors(fixture({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, [1, 2])),
    ).toThrow(/run past the end of the data/);
    expect(() => decodeSafetensors(fixture({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, [1, 2]))).toThrow(
      /belong to no tensor/,
    );
    expect(() => decodeSafetensors(fixture(one, [1, 2, 3]))).toThrow(
      /the last 4 bytes of the data belong to no tensor/,
    );
    expect(() => decodeSafetensors(fixture({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, []))).toThrow(
      /bad shape/,
    );
  });

  it('refuses to write a tensor named __metadata__', () => {
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: Float32Array.of(1) } })).toThrow(/reserved/);
  });
});

// The safetensors format (the reference is the `safetensors` crate's description):
//   8 bytes   N, the header's length, unsigned little-endian
//   N bytes   a UTF-8 JSON object: name → { dtype, shape, data_offsets: [begin, end] }, and an optional
//             "__metadata__" map of strings; it may be padded with trailing spaces
//   the rest  the tensors' bytes, little-endian, row-major; offsets count from the start of this part, and
//             together the tensors cover it exactly: no overlaps, no holes
import { sizeOf } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** A tensor's values as they travel in a file. */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents {
  tensors: Record<string, NamedArray>;
  metadata: Record<string, string>;
}

const KNOWN_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
];
const METADATA_KEY = '__metadata__';

/** Encodes float32 tensors as safetensors bytes, in the order given; the header is padded to 8 bytes. */
export function encodeSafetensors(
  tensors: Record<string, NamedArray>,
  metadata: Record<string, string> = {},
): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`saveSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const [name, { shape, data }] of Object.entries(tensors)) {
    if (name === METADATA_KEY)
      throw new Error(`saveSafetensors: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    const elements = sizeOf(shape);
    if (elements !== data.length)
      throw new Error(`saveSafetensors: '${name}' has ${data.length} values for shape [${shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const { data } of Object.values(tensors)) {
    for (let i = 0; i < data.length; i++, at += 4) view.setFloat32(at, data[i], true);
  }
  return out;
}

/** Decodes safetensors bytes holding F32 tensors; throws an Error saying what is wrong with a malformed file. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) throw new Error('loadSafetensors: expected the file as a Uint8Array');
  const fail = (why: string): never => {
    throw new Error(`loadSafetensors: ${why}`);
  };
  if (bytes.length < 8) fail(`the file has ${bytes.length} bytes; it needs at least the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > bytes.length - 8) {
    fail(
      `the header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes after the length)`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header must be a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors: Record<string, NamedArray> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (entry === null || typeof entry !== 'object') fail(`'${METADATA_KEY}' must be an object of strings`);
      for (const [k, v] of Object.entries(entry as object)) {
        if (typeof v !== 'string') fail(`metadata '${k}' must be a string, got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !KNOWN_DTYPES.includes(dtype))
      fail(`tensor '${name}' has an unknown dtype ${JSON.stringify(dtype)}`);
    if (dtype !== 'F32') fail(`tensor '${name}' is ${dtype}; webgrad loads F32 tensors only`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has a bad shape ${JSON.stringify(shape)}; it must be a list of non-negative integers`);
    }
    const okOffsets =
      Array.isArray(offsets) &&
      offsets.length === 2 &&
      offsets.every((o) => Number.isInteger(o) && o >= 0) &&
      offsets[0] <= offsets[1];
    if (!okOffsets)
      fail(
        `tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}; they must be [begin, end] with begin ≤ end`,
      );
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const elements = sizeOf(dims);
    if (end - begin !== elements * 4) {
      fail(
        `tensor '${name}' of shape [${dims.join(', ')}] needs ${elements * 4} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    if (end > dataLength)
      fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
    spans.push({ name, begin, end });
    const data = new Float32Array(elements);
    for (let i = 0; i < elements; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors[name] = { shape: dims, data };
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  spans.forEach((span, i) => {
    if (span.begin < covered) fail(`tensors '${spans[i - 1].name}' and '${span.name}' have overlapping data_offsets`);
    if (span.begin > covered)
      fail(`bytes ${covered}–${span.begin} of the data belong to no tensor (a hole before '${span.name}')`);
    covered = span.end;
  });
  if (covered !== dataLength) fail(`the last ${dataLength - covered} bytes of the data belong to no tensor`);
  return { tensors, metadata };
}

/** Reads the tensors back and encodes them as a safetensors file. */
export async function saveSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<Uint8Array<ArrayBuffer>> {
  const arrays: Record<string, NamedArray> = {};
  for (const [name, t] of Object.entries(tensors)) arrays[name] = { shape: [...t.shape], data: await t.data() };
  return encodeSafetensors(arrays, metadata);
}

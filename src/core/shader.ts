import { WgslReflect, type VariableInfo, type StructInfo } from 'wgsl_reflect/wgsl_reflect.module.js';
import preludeSource from '../../shaders/prelude.wgsl?raw';

export type BindingKind = 'read' | 'read_write' | 'uniform';

export interface BindingInfo {
  name: string;
  binding: number;
  kind: BindingKind;
  /** For a uniform struct: each member's byte offset and scalar type, read from the shader. */
  members?: { name: string; offset: number; size: number; type: string }[];
  size?: number;
}

export interface EntryInfo {
  entry: string;
  bindings: BindingInfo[];
}

/**
 * A WGSL module and what reflection says about it. Bindings are looked up by name,
 * so call sites never restate the shader's layout.
 */
export class Shader {
  /** The kernel's source followed by shaders/prelude.wgsl, which every kernel may use. */
  readonly source: string;
  private entries?: Map<string, EntryInfo>;

  // Appended rather than prepended: `enable` directives must come first, and the compiler's line numbers then
  // still point into the kernel's own file.
  constructor(
    readonly name: string,
    source: string,
  ) {
    this.source = `${source}\n${preludeSource}`;
  }

  entry(entry: string): EntryInfo {
    this.entries ??= reflectEntries(this.name, this.source);
    const info = this.entries.get(entry);
    if (!info) throw new Error(`shader ${this.name} has no compute entry point '${entry}'`);
    return info;
  }
}

function reflectEntries(name: string, source: string): Map<string, EntryInfo> {
  const reflect = new WgslReflect(source);
  const entries = new Map<string, EntryInfo>();
  for (const fn of reflect.entry.compute) {
    const bindings = fn.resources.map((v) => bindingInfo(name, v));
    bindings.sort((x, y) => x.binding - y.binding);
    entries.set(fn.name, { entry: fn.name, bindings });
  }
  return entries;
}

function bindingInfo(shader: string, v: VariableInfo): BindingInfo {
  if (v.group !== 0) throw new Error(`shader ${shader}: binding '${v.name}' must be in @group(0)`);
  // ResourceType: 0 uniform, 1 storage.
  if (v.resourceType === 0) {
    const struct = v.type as StructInfo;
    if (!struct.members) throw new Error(`shader ${shader}: uniform '${v.name}' must be a struct`);
    return {
      name: v.name,
      binding: v.binding,
      kind: 'uniform',
      size: struct.size,
      members: struct.members.map((m) => ({
        name: m.name,
        offset: m.offset,
        size: m.size,
        type: m.type.getTypeName(),
      })),
    };
  }
  if (v.resourceType === 1) {
    return { name: v.name, binding: v.binding, kind: v.access === 'read' ? 'read' : 'read_write' };
  }
  throw new Error(`shader ${shader}: binding '${v.name}' is neither a storage buffer nor a uniform`);
}

export type UniformValues = Record<string, number | readonly number[]>;

/** Packs named values into a uniform struct's bytes, at the offsets reflection found. */
export function packUniform(shader: string, info: BindingInfo, values: UniformValues): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((info.size ?? 16) / 16) * 16));
  const view = new DataView(bytes);
  for (const member of info.members ?? []) {
    const value = values[member.name];
    if (value === undefined) throw new Error(`shader ${shader}: uniform '${info.name}' needs '${member.name}'`);
    const scalars = typeof value === 'number' ? [value] : value;
    // Values past the member would silently land in the next one (a rank-8 shape given to a vec4, say).
    if (scalars.length * 4 > member.size) {
      throw new Error(
        `shader ${shader}: uniform '${info.name}' member '${member.name}' (${member.type}) holds ${member.size / 4} values, given ${scalars.length}`,
      );
    }
    const isFloat = member.type.includes('f32');
    const isSigned = member.type.includes('i32');
    scalars.forEach((s, i) => {
      const at = member.offset + 4 * i;
      if (isFloat) view.setFloat32(at, s, true);
      else if (isSigned) view.setInt32(at, s, true);
      else view.setUint32(at, s, true);
    });
  }
  return bytes;
}

/**
 * WGSL `const` lines for a table of codes, `{ reluGrad: 4 }` → `const RELU_GRAD = 4u;`, so that a kernel's
 * `switch` names the same numbers as the TypeScript table it was generated from.
 */
export function wgslCodes(codes: Readonly<Record<string, number>>): string {
  return Object.entries(codes)
    .map(([name, code]) => `const ${wgslConstName(name)} = ${code}u;\n`)
    .join('');
}

export function wgslConstName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Numbers a table's rows in order: the codes its kernels switch on. */
export function codesOf<K extends string>(table: Readonly<Record<K, unknown>>): Readonly<Record<K, number>> {
  return Object.fromEntries(Object.keys(table).map((name, code) => [name, code])) as Record<K, number>;
}

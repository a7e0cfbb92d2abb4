import { uniformRandom, type DispatchRecord, type Runtime, type Tensor } from '../src/index.js';

export interface Walkthrough {
  shape: [number, number];
  /** ∂L/∂Wᵀ from the GPU's backward pass (null when there is no GPU runtime). */
  gpu: Float32Array | null;
  /** (Xᵀ·G)ᵀ on the float64 CPU reference. */
  cpu: Float64Array;
  /** Central finite differences of L in float64. */
  fd: Float64Array;
  maxGpuCpu: number;
  maxCpuFd: number;
  /** The GPU result is within the float32 bound of README "Correctness" everywhere. */
  gpuMatchesCpu: boolean;
  /** The backward dispatches, and which one computed ∂L/∂Wᵀ. */
  trace: DispatchRecord[];
  transposedKernel: DispatchRecord | null;
  copiedTranspose: boolean;
}

const [M, K, N] = [8, 4, 3];

/** X [M, K], V = Wᵀ [N, K], labels; Z = X·Vᵀ = X·W, L = mean softmax cross-entropy of Z. */
function example(seed: number) {
  const random = uniformRandom(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => 2 * random() - 1);
  return { x: values(M * K), v: values(N * K), labels: Array.from({ length: M }, () => Math.floor(random() * N)) };
}

function loss(rt: Runtime, x: Tensor, v: Tensor, labels: number[]) {
  const z = rt.matmul(x, v, { transposeB: true }); // Z = X·Vᵀ [M, N]
  return { z, loss: rt.softmaxCrossEntropy(z, labels) };
}

/** Runs the walk-through on a fresh random example: GPU kernel, CPU reference and finite differences. */
export async function runWalkthrough(gpu: Runtime | null, cpu: Runtime, seed: number): Promise<Walkthrough> {
  const { x, v, labels } = example(seed);

  // The CPU reference: G = ∂L/∂Z from the tape, then (Xᵀ·G)ᵀ written out as two ops.
  const cpuX = cpu.tensor(x, [M, K]);
  const cpuV = cpu.tensor(v, [N, K], { requiresGrad: true });
  const ref = loss(cpu, cpuX, cpuV, labels);
  const [g] = await cpu.grad(ref.loss, [ref.z]);
  const cpuGrad = await cpu.transpose(cpu.matmul(cpuX, g, { transposeA: true })).dataF64();
  const gValues = await g.dataF64();

  // Central differences of L in float64, one element of V at a time.
  const eps = 1e-6;
  const fd = new Float64Array(N * K);
  for (let i = 0; i < N * K; i++) {
    const at = (delta: number) => {
      const shifted = Float64Array.from(v);
      shifted[i] += delta;
      return cpu.noGrad(() => loss(cpu, cpuX, cpu.tensor(shifted, [N, K]), labels).loss).dataF64();
    };
    fd[i] = ((await at(eps))[0] - (await at(-eps))[0]) / (2 * eps);
  }

  let gpuGrad: Float32Array | null = null;
  let trace: DispatchRecord[] = [];
  if (gpu) {
    const gx = gpu.tensor(x, [M, K]);
    const gv = gpu.tensor(v, [N, K], { requiresGrad: true });
    const forward = loss(gpu, gx, gv, labels);
    const traced = await gpu.trace(async () => (await gpu.grad(forward.loss, [gv]))[0]);
    gpuGrad = await traced.value.data();
    trace = traced.dispatches;
    [gx, gv, forward.z, forward.loss, traced.value].forEach((t) => t.dispose());
  }

  // |gpu − ref| ≤ 1e-6 + 4·M·2⁻²⁴·(|G|ᵀ·|X|): the reduction runs over the batch M.
  let gpuMatchesCpu = gpuGrad !== null;
  let maxGpuCpu = 0;
  let maxCpuFd = 0;
  for (let j = 0; j < N; j++)
    for (let k = 0; k < K; k++) {
      let magnitude = 0;
      for (let i = 0; i < M; i++) magnitude += Math.abs(gValues[i * N + j] * x[i * K + k]);
      const at = j * K + k;
      maxCpuFd = Math.max(maxCpuFd, Math.abs(cpuGrad[at] - fd[at]));
      if (gpuGrad) {
        const diff = Math.abs(gpuGrad[at] - cpuGrad[at]);
        maxGpuCpu = Math.max(maxGpuCpu, diff);
        if (!(diff <= 1e-6 + 4 * M * 2 ** -24 * magnitude)) gpuMatchesCpu = false;
      }
    }
  const transposedKernel = trace.find((d) => d.op === 'matmul' && d.kernel.endsWith('_tn')) ?? null;
  return {
    shape: [N, K],
    gpu: gpuGrad,
    cpu: cpuGrad,
    fd,
    maxGpuCpu,
    maxCpuFd,
    gpuMatchesCpu: gpuMatchesCpu && transposedKernel !== null,
    trace,
    transposedKernel,
    copiedTranspose: trace.some((d) => d.op === 'transpose'),
  };
}

/** The three matrices side by side, the differences under them, and the trace with the transposed kernel marked. */
export function renderWalkthrough(
  w: Walkthrough,
  into: { result: HTMLElement; verdict: HTMLElement; trace: HTMLElement },
): void {
  const [rows, cols] = w.shape;
  const matrix = (title: string, values: ArrayLike<number> | null, note: string) => {
    const box = document.createElement('div');
    box.className = 'matrix';
    const heading = document.createElement('h4');
    heading.textContent = title;
    box.append(heading);
    if (values) {
      const table = document.createElement('table');
      for (let r = 0; r < rows; r++) {
        const tr = table.insertRow();
        for (let c = 0; c < cols; c++) tr.insertCell().textContent = values[r * cols + c].toFixed(6);
      }
      box.append(table);
    } else {
      box.append('no WebGPU: not computed');
    }
    const diff = document.createElement('div');
    diff.className = 'diff';
    diff.textContent = note;
    box.append(diff);
    return box;
  };
  into.result.replaceChildren(
    matrix('GPU: Gᵀ·X, one kernel', w.gpu, w.gpu ? `max |GPU − CPU| = ${w.maxGpuCpu.toExponential(2)}` : ''),
    matrix('CPU float64: (Xᵀ·G)ᵀ', w.cpu, 'the reference'),
    matrix('finite differences', w.fd, `max |CPU − FD| = ${w.maxCpuFd.toExponential(2)}`),
  );
  if (!w.gpu) {
    into.verdict.className = 'verdict';
    into.verdict.textContent = 'No GPU runtime: the CPU reference against finite differences only.';
  } else {
    into.verdict.className = `verdict ${w.gpuMatchesCpu ? 'ok' : 'bad'}`;
    const kernel = w.transposedKernel ? `${w.transposedKernel.kernel}` : 'no transposed kernel';
    into.verdict.textContent = w.gpuMatchesCpu
      ? `✓ ∂L/∂Wᵀ = (∂L/∂Z)ᵀ·X holds: the GPU (${kernel}) matches the CPU within the float32 bound${w.copiedTranspose ? '' : ', and no transpose was copied'}.`
      : `✗ The GPU result does not match the CPU reference (${kernel}).`;
  }
  into.trace.replaceChildren(
    ...w.trace.map((d) => {
      const li = document.createElement('li');
      const shapes = d.shapes.map((s) => `[${s.join('×')}]`).join(', ');
      li.textContent = `${d.kernel}  ${d.op}(${shapes}) → [${d.outShape.join('×')}]`;
      if (d === w.transposedKernel) {
        li.className = 'hl';
        li.textContent += '   ← ∂L/∂Wᵀ = Gᵀ·X';
      }
      return li;
    }),
  );
}

// The two cards below the tabs: the ∂L/∂Wᵀ walk-through and the matmul speed test.
import type { Runtime } from '../src/index.js';
import { drawBars } from './chart.js';
import { renderWalkthrough, runWalkthrough } from './walkthrough.js';
import { loadTfjs, runSpeed, type SpeedRow } from './speed.js';

const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface WalkthroughState {
  done: boolean;
  gpuMatchesCpu: boolean;
  maxGpuCpu: number;
  maxCpuFd: number;
  kernel: string;
  error?: string;
}

export interface SpeedState {
  done: boolean;
  rows: SpeedRow[];
  error?: string;
}

let walkSeed = 1;
/** A new random example on the GPU (when there is one), the CPU reference and finite differences. */
export async function walkthrough(w: WalkthroughState, gpuRt: Runtime | null, cpuRt: Runtime): Promise<void> {
  w.done = false;
  try {
    const result = await runWalkthrough(gpuRt, cpuRt, walkSeed++);
    renderWalkthrough(result, { result: $('#walk-result'), verdict: $('#walk-verdict'), trace: $('#walk-trace') });
    Object.assign(w, {
      gpuMatchesCpu: result.gpuMatchesCpu,
      maxGpuCpu: result.maxGpuCpu,
      maxCpuFd: result.maxCpuFd,
      kernel: result.transposedKernel?.kernel ?? '',
      error: undefined,
    });
    console.log(
      `[webgrad-demo] walk-through: GPU ${result.transposedKernel?.kernel ?? '(none)'} vs CPU max diff ${result.maxGpuCpu.toExponential(2)}, ` +
        `CPU vs finite differences ${result.maxCpuFd.toExponential(2)}: ${result.gpuMatchesCpu ? 'match' : 'MISMATCH'}`,
    );
  } catch (e) {
    w.error = errorText(e);
    $('#walk-verdict').textContent = `The walk-through failed: ${w.error}`;
  }
  w.done = true;
}

/** GFLOP/s of each product on `rt`, with TF.js beside it when asked; `adapter` names the device. */
export async function speed(s: SpeedState, rt: Runtime, adapter: string): Promise<void> {
  s.done = false;
  s.rows = [];
  const button = $<HTMLButtonElement>('#speed-run');
  button.disabled = true;
  try {
    const wantTf = $<HTMLInputElement>('#speed-tfjs').checked && rt.info.backend === 'webgpu';
    const tf = wantTf ? await loadTfjs() : null;
    const table = $<HTMLTableElement>('#speed-table');
    table.innerHTML = '<thead><tr><th>kernel</th><th>shape</th><th>op</th><th>ms</th><th>GFLOP/s</th></tr></thead>';
    const body = table.createTBody();
    const source = await runSpeed(
      rt,
      tf,
      (row) => {
        s.rows.push(row);
        const tr = body.insertRow();
        const name = row.library === 'TF.js' ? 'TF.js' : row.kernel;
        for (const v of [name, row.shape, row.transpose, row.ms.toFixed(2), row.gflops.toFixed(2)])
          tr.insertCell().textContent = v;
        // The chart shows the square products; the table has every case.
        const squares = s.rows.filter((r) => /^\d+³$/.test(r.shape));
        drawBars(
          $('#speed-chart'),
          squares.map((r) => ({
            group: r.shape,
            series: r.library === 'webgrad' ? r.transpose : `TF.js ${r.transpose}`,
            value: r.gflops,
          })),
          'GFLOP/s',
        );
      },
      (line) => ($('#speed-source').textContent = `running: ${line.trim().replace(/\s+/g, ' ')}`),
    );
    $('#speed-source').textContent =
      `Timed in this page on ${rt.info.backend === 'webgpu' ? adapter : 'the CPU reference'}, by ${source}${wantTf ? (tf ? '; TF.js WebGPU beside it' : '; TF.js could not start') : ''}.`;
  } catch (e) {
    s.error = errorText(e);
  }
  button.disabled = false;
  s.done = true;
}

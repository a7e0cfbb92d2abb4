// The seam between the page shell (demo/main.ts: tabs, shared controls, loss chart, profiler, headless run) and
// each model tab (demo/tabs/*.ts). A tab owns its model, its data and its own panels; the shell owns everything
// that every tab shares. Nothing here imports the shell, so a tab can be written and tested on its own.
import type { GradientCheck, Runtime } from '../../src/index.js';

/** What the shell gives a tab. */
export interface TabEnv {
  /** The runtime chosen now: WebGPU, or the CPU reference when there is none. A device loss replaces it. */
  runtime(): Runtime;
  /** The float64 CPU reference, for the gradient check. */
  cpu: Runtime;
  /** The shared progress bar: `fraction` in [0, 1], or null to hide it. */
  progress(label: string, fraction: number | null): void;
  /** A notice above the tab (pipelines compiling, a fallback, an error); null clears it. */
  notice(text: string | null): void;
  /** One point of a series on the shared loss chart ('train', 'validation', 'test accuracy', …). */
  plot(series: string, step: number, value: number): void;
  /** A horizontal reference line on the shared loss chart (the bigram baseline); null removes it. */
  baseline(label: string, value: number | null): void;
  /** Statistics shown in the shared stats row: step, loss, accuracy, tokens/s, … */
  stats(values: Record<string, string>): void;
  /** Resolves when training may go on: the page is visible and this tab is the selected one. */
  whenVisible(): Promise<void>;
  /**
   * Runs `action` when nothing else uses the runtime (a training run, the walk-through, the speed test), for work a
   * tab starts on its own outside `train` (classifying a drawing, sampling). Optional: a shell may omit it.
   */
  exclusive?<T>(action: () => Promise<T>): Promise<T>;
}

/** Figures the headless run (`npm start -- --headless`) checks against the targets. */
export interface TabReport {
  /** e.g. { 'test accuracy': 0.962 } or { 'validation loss': 2.31, 'bigram baseline': 2.51 }. */
  figures: Record<string, number>;
  /** Whether the figures meet this tab's target, with the target in words. */
  passed: boolean;
  target: string;
  seconds: number;
}

export interface DemoTab {
  readonly id: 'spiral' | 'digits' | 'words';
  readonly title: string;
  /** Builds the tab's panels into `root` once, the first time the tab is shown; loads its data (with progress). */
  mount(root: HTMLElement, env: TabEnv): Promise<void>;
  /** Trains until `steps` more steps are done or `signal` aborts; plots through env as it goes. */
  train(steps: number, signal: AbortSignal): Promise<void>;
  /** The default step count for the Train button, and the one the headless run uses to meet the target. */
  readonly defaultSteps: number;
  /** One step of the current model on the runtime and on the CPU reference (`checkGradients`). */
  checkGradients(): Promise<GradientCheck>;
  /** The figures the headless run checks, measured now (test accuracy, validation loss, …). */
  report(seconds: number): Promise<TabReport>;
  /** The model's weights as .safetensors (PyTorch names and layouts), and back. */
  save(): Promise<Uint8Array>;
  load(bytes: Uint8Array): Promise<void>;
  /** Frees the model's tensors (backend switch, device loss). The next mount or train starts afresh. */
  dispose(): void;
}

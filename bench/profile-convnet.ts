// Where one compiled ConvNet training step's GPU time goes (Node + Dawn), written two ways: each block as one conv2d
// with `activation: 'relu', maxPool: 2`, and as conv2d → relu → maxPool2d. Bundle it as scripts/bench.mjs bundles
// bench/run.ts, then `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node profile-convnet.mjs
// [--profiles N]`. The two alternate profile by profile; each kernel-and-shape row keeps its least time over the N
// profiles, since on a shared machine other processes only ever add time.
import { create } from 'webgpu';
import { createRuntime } from '../src/index.js';
import { CONVNET, makeConvnetData, webgradConvnet } from './convnet.js';

const argv = process.argv.slice(2);
const profiles = argv.includes('--profiles') ? Number(argv[argv.indexOf('--profiles') + 1]) : 8;

async function convnetCase(gpu: GPU, fused: boolean) {
  const rt = await createRuntime({ backend: 'webgpu', gpu });
  const c = CONVNET;
  const data = makeConvnetData(c);
  const model = webgradConvnet(rt, c, data, fused);
  const step = rt.compile(model.step);
  const images = rt.tensor(data.images, [c.batch, 1, c.size, c.size]);
  const labels = rt.tensor(Float32Array.from(data.labels), [c.batch]);
  for (let i = 0; i < 2; i++) await rt.tidy(async () => (await step(images, labels)).data());
  const least = new Map<string, number>();
  const totals: number[] = [];
  const profileOnce = () =>
    rt.tidy(async () => {
      const r = await rt.profile(() => step(images, labels));
      await r.value.data();
      totals.push(r.totalMs);
      // The same kernel and shape may run more than once per step (one row per occurrence, in order).
      const seen = new Map<string, number>();
      for (const k of r.kernels) {
        const n = (seen.get(`${k.name} ${k.shape}`) ?? 0) + 1;
        seen.set(`${k.name} ${k.shape}`, n);
        const key = `${k.name} ${k.shape} #${n}`;
        least.set(key, Math.min(least.get(key) ?? Infinity, k.ms));
      }
    });
  return { label: fused ? 'fused conv2d (relu, maxPool 2)' : 'conv2d → relu → maxPool2d', least, totals, profileOnce };
}

const gpu = create([]);
const cases = [await convnetCase(gpu, true), await convnetCase(gpu, false)];
for (let i = 0; i < profiles; i++) for (const k of cases) await k.profileOnce();
for (const k of cases) {
  const sum = [...k.least.values()].reduce((a, b) => a + b, 0);
  console.log(
    `\n${k.label}: least kernel total ${Math.min(...k.totals).toFixed(2)} ms; sum of each kernel's least ${sum.toFixed(2)} ms`,
  );
  const byName = new Map<string, { count: number; ms: number }>();
  for (const [key, ms] of k.least) {
    const name = key.split(' ')[0];
    const row = byName.get(name) ?? { count: 0, ms: 0 };
    row.count++;
    row.ms += ms;
    byName.set(name, row);
  }
  console.log('| kernel | count | least ms | share |\n|---|---|---|---|');
  for (const [name, r] of [...byName].sort((a, b) => b[1].ms - a[1].ms))
    console.log(`| \`${name}\` | ${r.count} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / sum).toFixed(1)}% |`);
  console.log('\n| kernel and shape | least ms |\n|---|---|');
  for (const [key, ms] of [...k.least].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`| ${key} | ${ms.toFixed(2)} |`);
}
// Dawn keeps the process alive while a device exists; a failure above has already exited non-zero.
process.exit(0);

// Which Chromium the tests, the demo and the browser benchmark launch: Debian's where it exists
// (Playwright cannot download its own browser on our CI machines), else Playwright's own build.
import { existsSync } from 'node:fs';

const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser's path, or undefined for Playwright's default; throws a clear message when neither exists. */
export async function findChromium() {
  const system = SYSTEM_CHROMIUM.find((p) => existsSync(p));
  if (system) return system;
  const { chromium } = await import('playwright');
  const bundled = chromium.executablePath();
  if (bundled && existsSync(bundled)) return undefined;
  throw new Error(
    'No Chromium found. Install one with WebGPU: `apt-get install -y chromium` (Debian/Ubuntu), ' +
      'or `npx playwright install chromium`.',
  );
}

/** Flags that give headless Chromium a WebGPU adapter (SwiftShader on a machine without a GPU). */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--disable-background-networking', '--no-sandbox'];

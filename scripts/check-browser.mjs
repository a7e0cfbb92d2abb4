// Fails early, with what to do, when the browser tests would have no Chromium to run in.
import { findChromium } from './find-chromium.mjs';

try {
  const path = await findChromium();
  console.log(`browser tests run in ${path ?? "Playwright's Chromium"}`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

// PLACEHOLDER until the Words tab (demo/tabs/words.ts, written in parallel) is merged: it trains nothing and its
// report fails, so that `npm start -- --headless` cannot pass without the real tab.
import type { GradientCheck } from '../../src/index.js';
import type { DemoTab } from './contract.js';

export function createWordsTab(): DemoTab {
  const missing = () => Promise.reject(new Error('words: placeholder tab, the real one is not merged yet'));
  return {
    id: 'words',
    title: 'Words',
    defaultSteps: 1,
    async mount(root) {
      root.innerHTML =
        '<p class="lead" data-test="words-placeholder">The Words tab is not merged into this build yet.</p>';
    },
    async train() {},
    checkGradients: (): Promise<GradientCheck> => missing(),
    async report(seconds) {
      return { figures: {}, passed: false, target: 'the real Words tab (this is a placeholder)', seconds };
    },
    save: () => missing(),
    load: () => missing(),
    dispose() {},
  };
}

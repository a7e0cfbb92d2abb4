// Bad input for conv2d and conv1d, shared by the CPU (test/unit/conv.test.ts) and GPU (test/gpu/conv.test.ts) tests.
import type { Runtime } from '../src/index.js';

/** Bad input on a runtime: each call throws an Error naming the op and the shapes, and the runtime still works. */
export function convErrorCases(rt: Runtime): [string, () => unknown, RegExp][] {
  const x = () => rt.zeros([2, 3, 5, 5]);
  return [
    [
      'channel mismatch',
      () => rt.conv2d(x(), rt.zeros([4, 2, 3, 3])),
      /conv2d: channel mismatch: x \[2,3,5,5\] has 3 channels, but w \[4,2,3,3\] with groups 1 expects 2/,
    ],
    [
      'kernel larger than the padded input',
      () => rt.conv2d(x(), rt.zeros([4, 3, 8, 3]), null, { padding: 1 }),
      /conv2d: the kernel \[8,3\] \(dilated to 8 along H\) is larger than the padded input \[2,3,5,5\] \(7 with padding\)/,
    ],
    [
      'dilated kernel larger than the input',
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), null, { dilation: 3 }),
      /conv2d: the kernel \[3,3\] \(dilated to 7 along H\) is larger than the padded input \[2,3,5,5\]/,
    ],
    [
      'groups not dividing the channels',
      () => rt.conv2d(x(), rt.zeros([4, 1, 3, 3]), null, { groups: 2 }),
      /conv2d: groups 2 must divide the 3 input channels of x \[2,3,5,5\] and the 4 output channels of w \[4,1,3,3\]/,
    ],
    [
      'non-4-D x',
      () => rt.conv2d(rt.zeros([3, 5, 5]), rt.zeros([4, 3, 3, 3])),
      /conv2d: x must be 4-D \[N, C, H, W\], got \[3,5,5\]/,
    ],
    [
      'zero stride',
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), null, { stride: 0 }),
      /conv2d: stride must be a positive integer or a pair of them, got 0/,
    ],
    [
      'negative stride',
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), null, { stride: [1, -2] }),
      /conv2d: stride must be a positive integer or a pair of them, got \[1,-2\]/,
    ],
    [
      'negative padding',
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), null, { padding: -1 }),
      /conv2d: padding must be a non-negative integer, a pair of them, 'same' or 'valid', got -1 for x \[2,3,5,5\]/,
    ],
    [
      'unknown padding',
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), null, { padding: 'full' as never }),
      /conv2d: padding must be .* got "full" for x \[2,3,5,5\]/,
    ],
    [
      "'same' with stride 2",
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), null, { padding: 'same', stride: 2 }),
      /conv2d: padding 'same' needs stride 1, got stride \[2,2\] for x \[2,3,5,5\]/,
    ],
    [
      'bias shape',
      () => rt.conv2d(x(), rt.zeros([4, 3, 3, 3]), rt.zeros([3])),
      /conv2d: bias \[3\] must be \[4\], one per output channel of w \[4,3,3,3\]/,
    ],
    [
      'non-3-D conv1d x',
      () => rt.conv1d(x(), rt.zeros([4, 3, 3])),
      /conv1d: x must be 3-D \[N, C, L\], got \[2,3,5,5\]/,
    ],
    [
      'conv1d channel mismatch',
      () => rt.conv1d(rt.zeros([2, 3, 9]), rt.zeros([4, 2, 3])),
      /conv1d: channel mismatch: x \[2,3,1,9\] has 3 channels, but w \[4,2,1,3\] with groups 1 expects 2/,
    ],
  ];
}

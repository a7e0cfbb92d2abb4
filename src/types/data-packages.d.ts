// The data packages the loaders import on first use ship no types of their own.
declare module 'mnist' {
  /** mnist[d].raw: digit d's samples, 784 floats in [0, 1] each, back to back. */
  const digits: ArrayLike<{ raw: ArrayLike<number>; length: number }>;
  export default digits;
}
declare module 'an-array-of-english-words' {
  const words: string[];
  export default words;
}

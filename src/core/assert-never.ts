/** Exhaustiveness guard for switches over string unions. */
export function assertNever(value: never): never {
  throw new TypeError(`Unexpected value: ${String(value)}`);
}

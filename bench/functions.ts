/** The functions the scenarios protect, shared so that every library calls the same code. */

/* eslint-disable @typescript-eslint/require-await -- the issue asks for async functions that return (or throw) at once */

/** An async function returning a constant (scenarios 1, 2, 5). */
export const value = async (): Promise<number> => 1;

/** Built once, so a rejection measures rejecting, not building an error and its stack. */
export const BOOM = new Error('boom');

/** An async function rejecting with the pre-built {@link BOOM} (scenario 3). */
export const fail = async (): Promise<number> => {
  throw BOOM;
};

/* eslint-enable @typescript-eslint/require-await */

/** Resolves with a constant after `setTimeout(1)`: 1 ms of simulated latency (scenario 4). */
export const slow = (): Promise<number> => new Promise((resolve) => setTimeout(resolve, 1, 1));

// The seed and run count of the suite's property-based tests: fixed per run, logged, reproducible with
// XEPA_FUZZ_SEED=<seed> (fast-check prints the seed and path of any counterexample too).
export const FUZZ_SEED = Number(process.env.XEPA_FUZZ_SEED ?? Date.now() % 2 ** 31);
export const FUZZ_RUNS = Number(process.env.XEPA_FUZZ_RUNS ?? 200);

// Options for fc.assert: bounded runs and time, the logged seed.
export const fuzzOptions = (runs = FUZZ_RUNS): { seed: number; numRuns: number; interruptAfterTimeLimit: number } => ({
  seed: FUZZ_SEED,
  numRuns: runs,
  interruptAfterTimeLimit: 60_000,
});

console.info(`fast-check seed ${FUZZ_SEED} (${FUZZ_RUNS} runs per property; XEPA_FUZZ_SEED=${FUZZ_SEED} reproduces)`);

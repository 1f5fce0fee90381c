/**
 * Population stability index of one feature: sum over bins of (a - e) * ln(a / e), with a and e the
 * actual (live) and expected (reference) bin proportions. Common reading (Siddiqi, Credit Risk Scorecards,
 * 2006): below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a significant shift.
 *
 * Empty bins get a floor proportion `epsilon` so one empty bin does not make the index infinite.
 */
export function populationStabilityIndex(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  epsilon = 1e-4,
): number {
  let expectedTotal = 0;
  let actualTotal = 0;
  for (let i = 0; i < expected.length; i += 1) {
    expectedTotal += expected[i]!;
    actualTotal += actual[i]!;
  }
  if (expectedTotal === 0 || actualTotal === 0) return 0;
  let psi = 0;
  for (let i = 0; i < expected.length; i += 1) {
    const e = Math.max(expected[i]! / expectedTotal, epsilon);
    const a = Math.max(actual[i]! / actualTotal, epsilon);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

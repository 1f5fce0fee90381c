import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { createRng, type Rng } from '../random.js';
import { CoordinateMedian, TrimmedMean } from './coordinate-wise.js';
import { FedAvg } from './fedavg.js';
import { Bulyan, Krum, MultiKrum } from './krum.js';
import type { Strategy } from './types.js';

// Float64 references, written from the papers' definitions without the production code paths.
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const column = (rows: Float32Array[], j: number) => rows.map((r) => r[j] as number);
const sqdist = (a: Float32Array, b: Float32Array) =>
  a.reduce((s, x, j) => s + (x - (b[j] as number)) ** 2, 0);

function refMedian(rows: Float32Array[], j: number): number {
  const s = sorted(column(rows, j));
  const n = s.length;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

function refKrumOrder(rows: Float32Array[], pool: number[], f: number): number[] {
  const k = Math.max(1, Math.min(pool.length - 1, pool.length - f - 2));
  const score = (i: number) =>
    sorted(pool.filter((j) => j !== i).map((j) => sqdist(rows[i]!, rows[j]!)))
      .slice(0, k)
      .reduce((a, b) => a + b, 0);
  const scores = new Map(pool.map((i) => [i, score(i)]));
  // Ties to the smaller client id; ids are c00, c01, ... so that is the smaller index.
  return [...pool].sort((a, b) => scores.get(a)! - scores.get(b)! || a - b);
}

function refBulyan(rows: Float32Array[], f: number, j: number, selected: number[]): number {
  const values = selected.map((i) => rows[i]![j] as number);
  const median = refMedian(
    selected.map((i) => rows[i]!),
    j,
  );
  const beta = selected.length - 2 * f;
  return mean([...values].sort((a, b) => Math.abs(a - median) - Math.abs(b - median)).slice(0, beta));
}

function aggregate(strategy: Strategy, rows: Float32Array[]): Float32Array {
  const round = strategy.beginRound(1, new Float32Array(rows[0]!.length));
  rows.forEach((params, i) => {
    round.add({
      clientId: `c${String(i).padStart(2, '0')}`,
      numExamples: 1 + i,
      params,
      metrics: { loss: i },
    });
  });
  const { params } = round.finish();
  round.dispose();
  return params;
}

const randomRows = (rng: Rng, n: number, d: number) =>
  Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal() * 2));

function worstError(actual: Float32Array, expected: (j: number) => number): number {
  let worst = 0;
  for (let j = 0; j < actual.length; j++) {
    const e = expected(j);
    worst = Math.max(worst, Math.abs((actual[j] as number) - e) / Math.max(Math.abs(e), 1e-3));
  }
  return worst;
}

describe.each(['auto', 'js'] as const)('robust strategies (%s kernel)', (kernel) => {
  it('median and trimmed mean equal their float64 definitions on random inputs', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = createRng(seed);
      const n = 1 + rng.int(25);
      const rows = randomRows(rng, n, 1 + rng.int(700));
      const median = aggregate(new CoordinateMedian({ minFitClients: 1, kernel }), rows);
      expect(worstError(median, (j) => refMedian(rows, j))).toBeLessThan(1e-6);
      const trimFraction = rng.next() * 0.45;
      const b = Math.floor(trimFraction * n);
      const trimmed = aggregate(new TrimmedMean({ minFitClients: 1, kernel, trimFraction }), rows);
      expect(worstError(trimmed, (j) => mean(sorted(column(rows, j)).slice(b, n - b)))).toBeLessThan(1e-6);
    }
  });

  it('Krum, Multi-Krum and Bulyan equal their float64 definitions on random inputs', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const rng = createRng(100 + seed);
      const f = rng.int(3);
      const n = 4 * f + 3 + rng.int(6);
      const rows = randomRows(rng, n, 1 + rng.int(300));
      const order = refKrumOrder(rows, [...rows.keys()], f);
      const krum = aggregate(new Krum({ minFitClients: n, byzantine: f, kernel }), rows);
      expect(Array.from(krum)).toEqual(Array.from(rows[order[0]!]!));
      const m = 1 + rng.int(n - f);
      const multi = aggregate(new MultiKrum({ minFitClients: n, byzantine: f, selected: m, kernel }), rows);
      expect(worstError(multi, (j) => mean(order.slice(0, m).map((i) => rows[i]![j]!)))).toBeLessThan(1e-6);
      const pool = [...rows.keys()];
      const selected: number[] = [];
      while (selected.length < n - 2 * f) {
        const best = refKrumOrder(rows, pool, f)[0]!;
        selected.push(best);
        pool.splice(pool.indexOf(best), 1);
      }
      const bulyan = aggregate(new Bulyan({ minFitClients: n, byzantine: f, kernel }), rows);
      expect(worstError(bulyan, (j) => refBulyan(rows, f, j, selected))).toBeLessThan(1e-6);
    }
  });

  it('f clients sending the same large vector move FedAvg but not the robust strategies', () => {
    const rng = createRng(42);
    const d = 64;
    const f = 2;
    const honest = randomRows(rng, 9, d).map((r) => r.map((x) => x * 0.1));
    const attack = Array.from({ length: f }, () => new Float32Array(d).fill(1000));
    const rows = [...attack, ...honest];
    const n = rows.length;
    const within = (params: Float32Array, bound: number) => params.every((x) => Math.abs(x) < bound);
    // The attack works on plain averaging...
    expect(within(aggregate(new FedAvg({ minFitClients: 1, kernel }), rows), 10)).toBe(false);
    // ...Krum picks one of the honest updates, the others stay within the honest spread.
    const krum = aggregate(new Krum({ minFitClients: n, byzantine: f, kernel }), rows);
    expect(honest.some((h) => h.every((x, j) => x === krum[j]))).toBe(true);
    expect(within(aggregate(new MultiKrum({ minFitClients: n, byzantine: f, kernel }), rows), 1)).toBe(true);
    expect(within(aggregate(new Bulyan({ minFitClients: n, byzantine: f, kernel }), rows), 1)).toBe(true);
    expect(within(aggregate(new CoordinateMedian({ minFitClients: 1, kernel }), rows), 1)).toBe(true);
    expect(within(aggregate(new TrimmedMean({ minFitClients: 1, trimFraction: 0.2, kernel }), rows), 1)).toBe(
      true,
    );
  });
});

describe('robust strategy configuration', () => {
  it('refuses a quorum too small for f, and a round with fewer updates than it needs', () => {
    expect(() => new Krum({ minFitClients: 4, byzantine: 1 })).toThrow(FedlearnError);
    expect(() => new Bulyan({ minFitClients: 10, byzantine: 2 })).toThrow(/at least 11/);
    const round = new Krum({ minFitClients: 5, byzantine: 1 }).beginRound(1, new Float32Array(2));
    for (let i = 0; i < 4; i++)
      round.add({ clientId: `c${i}`, numExamples: 1, params: new Float32Array(2), metrics: {} });
    expect(() => round.finish()).toThrow(/needs at least 5/);
  });

  it('declares that it needs individual updates, so secure aggregation is refused', () => {
    for (const s of [new CoordinateMedian(), new TrimmedMean(), new Krum({ minFitClients: 5 })]) {
      expect(s.requiresIndividualUpdates).toBe(true);
    }
  });
});

#!/usr/bin/env node
// Writes sensors.csv: SYNTHETIC readings of machines at three sites (a, b, c), each row labelled
// ok / wear / fault. Deterministic (a fixed-seed LCG), so the committed file can be regenerated:
//   node examples/own-model/data/generate.mjs > examples/own-model/data/sensors.csv
// Each site sees its own mix of labels and its own sensor offset: the non-IID data federated
// learning is for.
let state = 20_261_201;
const random = () => {
  state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
  return state / 2 ** 32;
};
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const LABELS = ['ok', 'wear', 'fault'];
const CENTRES = [
  [60, 0.2, 101, 40], // ok: temperature °C, vibration g, pressure kPa, humidity %
  [72, 0.6, 99, 45], // wear
  [85, 1.3, 94, 55], // fault
];
const SITES = { a: [0.6, 0.3, 0.1], b: [0.3, 0.5, 0.2], c: [0.2, 0.3, 0.5] };
const lines = ['site,temperature,vibration,pressure,humidity,label'];
for (const [site, mix] of Object.entries(SITES)) {
  const offset = gauss() * 2;
  for (let i = 0; i < 200; i++) {
    const r = random();
    const label = r < mix[0] ? 0 : r < mix[0] + mix[1] ? 1 : 2;
    const [t, v, p, h] = CENTRES[label];
    const row = [
      t + offset + gauss() * 5,
      Math.max(0, v + gauss() * 0.25),
      p + gauss() * 2.5,
      h + gauss() * 6,
    ];
    lines.push([site, ...row.map((x, j) => x.toFixed(j === 1 ? 3 : 1)), LABELS[label]].join(','));
  }
}
process.stdout.write(`${lines.join('\n')}\n`);

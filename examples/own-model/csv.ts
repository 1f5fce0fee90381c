import { readFileSync } from 'node:fs';
import { CLASSES, FEATURES } from './model.js';

/** One site's rows of a CSV with a header naming `site`, the FEATURES and `label`. */
export function readSite(path: string, site: string): { features: number[][]; labels: number[] } {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const columns = header!.split(',');
  const index = (name: string) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`${path}: no "${name}" column`);
    return i;
  };
  const [siteAt, labelAt] = [index('site'), index('label')];
  const featureAt = FEATURES.map(index);
  const features: number[][] = [];
  const labels: number[] = [];
  lines.forEach((line, n) => {
    const cells = line.split(',');
    if (cells[siteAt] !== site) return;
    const row = featureAt.map((i) => Number(cells[i]));
    const label = CLASSES.indexOf(cells[labelAt] as (typeof CLASSES)[number]);
    if (row.some((v) => !Number.isFinite(v)) || label < 0) throw new Error(`${path}: bad row ${n + 2}`);
    features.push(row);
    labels.push(label);
  });
  if (features.length === 0) throw new Error(`${path}: no rows for site "${site}"`);
  return { features, labels };
}

import { FedlearnError, findStrategy, STRATEGIES } from '@fedlearn/core';

/** `--strategy` help: the syntax and every registered strategy with its summary. */
export function strategyHelp(): string {
  const width = Math.max(...STRATEGIES.map((s) => s.name.length));
  return STRATEGIES.map((s) => `                       ${s.name.padEnd(width)}  ${s.summary}`).join('\n');
}

/**
 * Reads `--strategy NAME[:KEY=VALUE,...]` (e.g. `fedadam:eta=0.01,tau=0.001`, `krum:byzantine=2`)
 * into `{ name, ...options }`. Values are numbers; the strategy's own schema validates them when
 * the job is built.
 *
 * @throws FedlearnError `INVALID_CONFIG` for an unknown strategy or a malformed option.
 */
export function strategyOption(value: string | undefined): Record<string, unknown> {
  if (value === undefined) return { name: 'fedavg' };
  const [name = '', list] = value.split(/:(.*)/s, 2);
  findStrategy(name);
  const spec: Record<string, unknown> = { name };
  for (const pair of list ? list.split(',') : []) {
    const match = /^([A-Za-z][A-Za-z0-9]{0,40})=([^=]{1,40})$/.exec(pair.trim());
    const number = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isFinite(number)) {
      throw new FedlearnError(
        'INVALID_CONFIG',
        `--strategy options are KEY=NUMBER pairs separated by commas, got "${pair.slice(0, 60)}"`,
      );
    }
    spec[match[1] as string] = number;
  }
  return spec;
}

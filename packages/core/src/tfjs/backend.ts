/** The tfjs calls backend selection needs (the runtime's own `tf`). */
export interface BackendRegistry {
  findBackendFactory(name: string): unknown;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
}

/**
 * Starts the first backend of `order` that registers and initialises, and returns its name.
 * `register` loads a backend's package (Node); without it, only backends the page already
 * imported are tried.
 */
export async function startFirstBackend(
  tf: BackendRegistry,
  order: readonly string[],
  register?: (name: string) => Promise<void>,
): Promise<string> {
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (!tf.findBackendFactory(name)) await register?.(name);
      if (!tf.findBackendFactory(name)) {
        failures.push(`${name}: not registered`);
        continue;
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
      failures.push(`${name}: setBackend returned false`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no tfjs backend could start (${failures.join('; ')})`);
}

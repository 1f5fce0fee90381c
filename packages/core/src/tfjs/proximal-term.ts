import type { LayersModelLike, TensorLike, TfApi } from './tf-api.js';

/** Batch callbacks in the shape tfjs-layers' `model.fit({ callbacks })` takes. */
export interface BatchCallbacks {
  onBatchBegin(): Promise<void>;
  onBatchEnd(): Promise<void>;
}

/**
 * FedProx's proximal term (Li et al., MLSys 2020) as training callbacks: adds the gradient of
 * μ/2·‖w − w_global‖², μ·(w − w_global), to every batch's step. Taken at the batch's starting
 * weights and applied after the optimiser's step, it is exactly SGD on loss + proximal term:
 * w ← w − lr·(∇loss(w) + μ·(w − w_global)). With another optimiser it is a decoupled pull
 * toward the global model of the same size.
 *
 * Call it right after the global weights are set; `dispose()` when training is done.
 *
 * @example
 * const prox = proximalTerm(tf, model, config.proximalMu, config.learningRate);
 * await model.fit(x, y, { callbacks: prox.callbacks });
 * prox.dispose();
 */
export function proximalTerm(
  tf: TfApi,
  model: LayersModelLike,
  mu: number,
  learningRate: number,
): { callbacks: BatchCallbacks; dispose(): void } {
  const weights = model.trainableWeights;
  const anchor = weights.map((w) => tf.keep(tf.clone(w.read())));
  let pulls: TensorLike[] = [];
  const scale = learningRate * mu;
  return {
    callbacks: {
      onBatchBegin: async () => {
        pulls = tf.tidy(() =>
          weights.map((w, i) => tf.keep(tf.mul(tf.sub(w.read(), anchor[i] as TensorLike), scale))),
        );
      },
      onBatchEnd: async () => {
        weights.forEach((w, i) => {
          const next = tf.tidy(() => tf.sub(w.read(), pulls[i] as TensorLike));
          w.write(next); // copies into the variable
          tf.dispose(next);
        });
        tf.dispose(pulls);
        pulls = [];
      },
    },
    dispose() {
      tf.dispose([...anchor, ...pulls]);
    },
  };
}

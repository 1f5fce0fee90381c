// The benchmarks' model: a seeded 784-H-10 MLP, registered as version 1 in a local registry.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * Builds the MLP, registers it through `lifecycle` under `modelName` and returns the finished run's
 * version. The run stays open only as long as registering needs it.
 */
export async function registerBenchMlp(lifecycle, { modelName, features, hidden, seed, accuracy }) {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'hidden',
        inputShape: [features],
        units: hidden,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed }),
      }),
      tfl.layers.dense({
        name: 'output',
        units: 10,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  let saved;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const run = await lifecycle.startRun({
    jobId: 'bench',
    modelName,
    strategy: 'fedavg',
    rounds: 1,
    clients: 1,
    secureAggregation: false,
  });
  const { version } = await run.registerVersion(
    {
      modelTopology: saved.modelTopology,
      weightSpecs: saved.weightSpecs.map((s) => ({ name: s.name, shape: s.shape, dtype: 'float32' })),
      weightData: new Uint8Array(saved.weightData.slice(0)),
    },
    { round: 1, metrics: { accuracy } },
  );
  await run.finish();
  model.dispose();
  return version;
}

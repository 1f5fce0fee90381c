/** The GraphQL schema of served models, predictions and swaps. */
export const SCHEMA = /* GraphQL */ `
  type TensorSpec {
    name: String!
    datatype: String!
    shape: [Int!]!
  }
  type Metric {
    name: String!
    value: Float!
  }
  "Metrics of one registered version of the job that trained the served model."
  type TrainingRound {
    round: Int!
    version: String!
    metrics: [Metric!]!
  }
  type Lineage {
    jobId: String
    runId: String
    round: Int
    createdAt: String!
    strategy: String
    secureAggregation: Boolean
    metrics: [Metric!]!
  }
  type Model {
    name: String!
    version: String!
    alias: String
    ready: Boolean!
    platform: String!
    inputs: [TensorSpec!]!
    outputs: [TensorSpec!]!
    lineage: Lineage
    trainingMetrics: [TrainingRound!]!
  }
  type Prediction {
    class: Int!
    probabilities: [Float!]!
  }
  type PredictResult {
    model: String!
    version: String!
    class: Int!
    probabilities: [Float!]!
  }
  type BatchPredictResult {
    model: String!
    version: String!
    predictions: [Prediction!]!
  }
  type ModelChange {
    model: String!
    previousVersion: String
    version: String!
    at: String!
  }
  type Query {
    models: [Model!]!
    model(name: String!): Model
    predict(model: String!, instance: [Float!]!): PredictResult!
    predictBatch(model: String!, instances: [[Float!]!]!): BatchPredictResult!
  }
  type Subscription {
    "Fires every time a served model swaps to a new version (all models, or the one named)."
    modelChanged(model: String): ModelChange!
  }
`;

/** What each field costs in the query cost limit (default 1): the ones that run a model or call the registry. */
export const FIELD_COSTS: Record<string, number> = {
  predict: 10,
  predictBatch: 50,
  trainingMetrics: 20,
};

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlflowStandIn, startMlflowStandIn } from './mlflow-standin.js';

let mlflow: MlflowStandIn;
beforeAll(async () => {
  mlflow = await startMlflowStandIn({ proxyArtifacts: true });
});
afterAll(async () => {
  await mlflow.close();
});

async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  contentType?: string,
) {
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  const res = await request(`${mlflow.url}${path}`, {
    method,
    headers,
    ...(body === undefined
      ? {}
      : { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    type: String(res.headers['content-type']),
    text,
    json: () => JSON.parse(text),
  };
}

const post = (endpoint: string, body: unknown) =>
  call('POST', `/api/2.0/mlflow/${endpoint}`, body, 'application/json');

describe('MLflow REST stand-in (reproduces the tracking server behaviours the client must handle)', () => {
  it('answers a duplicate create with 400 RESOURCE_ALREADY_EXISTS', async () => {
    expect((await post('registered-models/create', { name: 'dup' })).status).toBe(200);
    const again = await post('registered-models/create', { name: 'dup' });
    expect(again.status).toBe(400);
    expect(again.json()).toEqual({
      error_code: 'RESOURCE_ALREADY_EXISTS',
      message: 'Registered Model (name=dup) already exists.',
    });
    expect((await post('experiments/create', { name: 'e' })).status).toBe(200);
    expect((await post('experiments/create', { name: 'e' })).json().error_code).toBe(
      'RESOURCE_ALREADY_EXISTS',
    );
  });

  it('answers unknown experiments, runs and models with 404 RESOURCE_DOES_NOT_EXIST', async () => {
    for (const path of [
      '/api/2.0/mlflow/experiments/get-by-name?experiment_name=nope',
      '/api/2.0/mlflow/runs/get?run_id=nope',
      '/api/2.0/mlflow/registered-models/get?name=nope',
    ]) {
      const res = await call('GET', path);
      expect(res.status).toBe(404);
      expect(res.json().error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
  });

  it('answers a missing alias with 400 INVALID_PARAMETER_VALUE, not 404', async () => {
    await post('registered-models/create', { name: 'aliased' });
    const res = await call('GET', '/api/2.0/mlflow/registered-models/alias?name=aliased&alias=champion');
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'Registered model alias champion not found.',
    });
  });

  it('reads, sets and deletes an alias on the one path registered-models/alias (GET, POST, DELETE with a JSON body)', async () => {
    await post('registered-models/create', { name: 'aliases' });
    await post('model-versions/create', { name: 'aliases', source: 'mlflow-artifacts:/0/r/artifacts/m' });
    expect(
      (await post('registered-models/alias', { name: 'aliases', alias: 'champion', version: '1' })).status,
    ).toBe(200);
    const got = await call('GET', '/api/2.0/mlflow/registered-models/alias?name=aliases&alias=champion');
    expect(got.json().model_version).toMatchObject({ name: 'aliases', version: '1', aliases: ['champion'] });
    const deleted = await call(
      'DELETE',
      '/api/2.0/mlflow/registered-models/alias',
      { name: 'aliases', alias: 'champion' },
      'application/json',
    );
    expect(deleted.status).toBe(200);
    // MLflow reads DELETE parameters from the JSON body only: a query alone is a missing 'name'.
    const queryOnly = await call('DELETE', '/api/2.0/mlflow/registered-models/alias?name=aliases&alias=x');
    expect(queryOnly.status).toBe(400);
    expect(queryOnly.json().message).toContain("Missing value for required parameter 'name'");
    expect(
      (await call('GET', '/api/2.0/mlflow/registered-models/alias?name=aliases&alias=champion')).status,
    ).toBe(400);
    // There is no `get-by-alias` endpoint in MLflow: it is an unknown route (HTML 404).
    const wrong = await call('GET', '/api/2.0/mlflow/registered-models/get-by-alias?name=aliases&alias=x');
    expect(wrong.status).toBe(404);
    expect(wrong.type).toContain('text/html');
  });

  it('fills in version aliases only where MLflow does: model-versions/get and GET registered-models/alias', async () => {
    await post('registered-models/create', { name: 'where-aliases' });
    await post('model-versions/create', {
      name: 'where-aliases',
      source: 'mlflow-artifacts:/0/r/artifacts/m',
    });
    await post('registered-models/alias', { name: 'where-aliases', alias: 'champion', version: '1' });
    const get = await call('GET', '/api/2.0/mlflow/model-versions/get?name=where-aliases&version=1');
    expect(get.json().model_version.aliases).toEqual(['champion']);
    const search = await call('GET', "/api/2.0/mlflow/model-versions/search?filter=name%3D'where-aliases'");
    expect(search.json().model_versions[0]).not.toHaveProperty('aliases');
    const model = await call('GET', '/api/2.0/mlflow/registered-models/get?name=where-aliases');
    expect(model.json().registered_model.aliases).toEqual([{ alias: 'champion', version: '1' }]);
    expect(model.json().registered_model.latest_versions[0]).not.toHaveProperty('aliases');
  });

  it('is no more lenient than MLflow: integer versions, run statuses, search filters, methods, empty fields', async () => {
    await post('registered-models/create', { name: 'strict' });
    for (let i = 0; i < 3; i++)
      await post('model-versions/create', {
        name: 'strict',
        source: `mlflow-artifacts:/0/r/artifacts/m${i}`,
      });
    // _validate_model_version: a non-integer version is 400 INVALID_PARAMETER_VALUE, not 404
    const notInt = await call('GET', '/api/2.0/mlflow/model-versions/get?name=strict&version=two');
    expect(notInt.status).toBe(400);
    expect(notInt.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Model version must be an integer, got 'two'",
    });
    expect(
      (await post('registered-models/alias', { name: 'strict', alias: 'a', version: '1.5' })).status,
    ).toBe(400);
    // natural order of model-versions/search: name ascending, version descending
    const searched = await call('GET', "/api/2.0/mlflow/model-versions/search?filter=name%3D'strict'");
    expect(searched.json().model_versions.map((v: { version: string }) => v.version)).toEqual([
      '3',
      '2',
      '1',
    ]);
    // registered-models/search obeys its filter (or refuses one it does not understand)
    const one = await call('GET', "/api/2.0/mlflow/registered-models/search?filter=name%3D'strict'");
    expect(one.json().registered_models.map((m: { name: string }) => m.name)).toEqual(['strict']);
    expect((await call('GET', '/api/2.0/mlflow/registered-models/search?filter=tags.x%3D1')).status).toBe(
      400,
    );
    // runs/update takes only RunStatus values; the run name lives in the mlflow.runName tag too
    const run = (await post('runs/create', { experiment_id: '0', run_name: 'first' })).json().run;
    expect(run.data.tags).toEqual([{ key: 'mlflow.runName', value: 'first' }]);
    expect((await post('runs/update', { run_id: run.info.run_id, status: 'DONE' })).status).toBe(400);
    // empty repeated fields are left out, as protobuf's JSON does
    const got = (await call('GET', `/api/2.0/mlflow/runs/get?run_id=${run.info.run_id}`)).json().run;
    expect(got.data).not.toHaveProperty('params');
    expect(got.data).not.toHaveProperty('metrics');
    const experiment = (await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0')).json();
    expect(experiment.experiment).not.toHaveProperty('tags');
    // Flask answers another method on a known path with an HTML 405
    const wrongMethod = await call('GET', '/api/2.0/mlflow/runs/update');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.type).toContain('text/html');
  });

  it('refuses a POST without Content-Type: application/json', async () => {
    const missing = await call('POST', '/api/2.0/mlflow/experiments/create', JSON.stringify({ name: 'x' }));
    expect(missing.status).toBe(400);
    expect(missing.json().message).toContain('Content-Type header is missing');
    const wrong = await call(
      'POST',
      '/api/2.0/mlflow/experiments/create',
      JSON.stringify({ name: 'x' }),
      'text/plain',
    );
    expect(wrong.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it('serves run artifacts through mlflow-artifacts, and a missing one is a 500', async () => {
    const run = (await post('runs/create', { experiment_id: '0', start_time: 1 })).json().run.info;
    expect(run.artifact_uri).toBe(`mlflow-artifacts:/0/${run.run_id}/artifacts`);
    const path = `/api/2.0/mlflow-artifacts/artifacts/0/${run.run_id}/artifacts/model/MLmodel`;
    expect((await call('PUT', path, new Uint8Array([1, 2, 3]))).status).toBe(200);
    const got = await request(`${mlflow.url}${path}`);
    expect(new Uint8Array(await got.body.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    const listed = await call('GET', `/api/2.0/mlflow-artifacts/artifacts?path=0/${run.run_id}/artifacts`);
    expect(listed.json()).toEqual({ files: [{ path: 'model', is_dir: true }] });
    const missing = await call('GET', `${path}-missing`);
    expect(missing.status).toBe(500);
  });

  it('answers unknown routes with an HTML 404, not JSON', async () => {
    const res = await call('GET', '/api/2.0/mlflow/no-such-endpoint');
    expect(res.status).toBe(404);
    expect(res.type).toContain('text/html');
    expect(res.text).toContain('<title>404 Not Found</title>');
  });

  it('can refuse unexpected Host headers like MLflow 3.5+ without --allowed-hosts', async () => {
    const strict = await startMlflowStandIn({ allowedHosts: ['localhost:*'] });
    try {
      const res = await request(`${strict.url}/api/2.0/mlflow/registered-models/search`);
      expect(res.statusCode).toBe(403);
      expect(await res.body.text()).toContain('Invalid Host header');
      expect((await request(`${strict.url}/health`)).statusCode).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('caps max_results of the searches like MLflow (1000 models, 200000 versions)', async () => {
    const models = await call('GET', '/api/2.0/mlflow/registered-models/search?max_results=1001');
    expect(models.status).toBe(400);
    expect(models.json().error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('GET', '/api/2.0/mlflow/registered-models/search?max_results=1000')).status).toBe(200);
    const versions = await call('GET', '/api/2.0/mlflow/model-versions/search?max_results=200001');
    expect(versions.status).toBe(400);
  });

  it('injects faults with MLflow error bodies', async () => {
    mlflow.injectFault({ path: 'registered-models/search', status: 429, times: 1 });
    const limited = await call('GET', '/api/2.0/mlflow/registered-models/search');
    expect(limited.status).toBe(429);
    expect(limited.json().error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    expect((await call('GET', '/api/2.0/mlflow/registered-models/search')).status).toBe(200);
  });
});

"""fedlearn_client.py against a LIVE coordinator (python3 -m unittest, stdlib only, no Airflow).

live_coordinator.mjs starts a real `fedlearn server` with two real MNIST clients; its model
registry is the MLflow STAND-IN of @fedlearn/registry/testing (MLflow's REST API, not MLflow),
which is also where the promotion gate moves aliases, over the same REST calls it makes on MLflow.
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "dags"))
sys.path.insert(0, str(HERE))

from fedlearn_client import (  # noqa: E402
    CoordinatorClient,
    FedlearnApiError,
    JobFailed,
    MlflowRegistry,
    build_job_spec,
    check_partition,
    final_model,
    progress_line,
    promotion_gate,
)

RUN_ID = "manual__2026-12-01T18:00:00+00:00"


class LiveCoordinator(unittest.TestCase):
    stack: subprocess.Popen

    @classmethod
    def setUpClass(cls):
        cls.stack = subprocess.Popen(
            ["node", str(HERE / "live_coordinator.mjs"), "--clients", "2"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if not os.environ.get("FEDLEARN_TEST_VERBOSE") else None,
            text=True,
        )
        line = cls.stack.stdout.readline()
        if not line:
            raise RuntimeError("live_coordinator.mjs exited before it was ready")
        info = json.loads(line)
        cls.client = CoordinatorClient(info["coordinator"], info["apiToken"], timeout=10)
        cls.registry = MlflowRegistry(info["mlflow"], timeout=10)
        cls.url = info["coordinator"]
        cls.token = info["apiToken"]
        cls.mlflow = info["mlflow"]

    @classmethod
    def tearDownClass(cls):
        cls.stack.stdin.close()
        cls.stack.wait(timeout=30)

    def wait(self, job_id, lines=None):
        return self.client.wait_for_job(
            job_id, log=(lines.append if lines is not None else (lambda _line: None)), poll_seconds=0.2, timeout_seconds=90
        )

    def test_1_submit_twice_same_job_wait_and_gate(self):
        spec = build_job_spec(rounds=2, clients=2, model_name="airflow-mnist", seed=7, learning_rate=0.1)
        first = self.client.submit_job(spec, idempotency_key=RUN_ID)
        # A retried Airflow task sends the same run id: it must get the same job, not a second one.
        # (Checked after the wait, so a failure here does not leave the job running for the next test.)
        try:
            again = self.client.submit_job(spec, idempotency_key=RUN_ID)
        except FedlearnApiError as error:
            again = {"id": None, "error": error.code}
        lines = []
        job = self.wait(first["id"], lines)
        self.assertEqual(again["id"], first["id"], again)
        self.assertEqual(job["status"], "completed")
        self.assertEqual([r["round"] for r in job["rounds"]], [1, 2])
        self.assertTrue(any("round 2 ok accuracy" in line for line in lines), lines)
        self.assertTrue(all(line.startswith(f"job {job['id']} ") for line in lines))
        model = final_model(job)
        self.assertEqual((model["name"], model["round"]), ("airflow-mnist", 2))

        # Below the gate's minimum: stays challenger, with the reason.
        held = promotion_gate(job, self.registry, min_value=1.01)
        self.assertFalse(held.promoted)
        self.assertEqual(held.alias, "challenger")
        self.assertIn("below the gate's minimum 1.01", held.reason)
        self.assertEqual(int(self.registry.version_by_alias("airflow-mnist", "challenger")["version"]), model["version"])

        # Passing the minimum: the final version must also beat the current champion, here put
        # back on round 1's version; the alias moves (or not) in the registry itself.
        first_round = job["rounds"][0]["model"]
        self.registry.set_alias("airflow-mnist", "champion", first_round["version"])
        gate = promotion_gate(job, self.registry, min_value=0.0)
        better = model["accuracy"] > job["rounds"][0]["accuracy"]
        self.assertEqual(gate.promoted, better, gate.reason)
        self.assertEqual(gate.champion_before, first_round["version"])
        champion = int(self.registry.version_by_alias("airflow-mnist", "champion")["version"])
        self.assertEqual(champion, model["version"] if better else first_round["version"])
        self.assertEqual(gate.model_uri, f"models:/airflow-mnist/{model['version']}")
        # Once champion, the gate passes it again without moving anything.
        self.registry.set_alias("airflow-mnist", "champion", model["version"])
        self.assertTrue(promotion_gate(job, self.registry, min_value=0.0).promoted)

        # The same key with another body is refused, not answered with the first job.
        with self.assertRaises(FedlearnApiError) as refused:
            self.client.submit_job(dict(spec, rounds=3), idempotency_key=RUN_ID)
        self.assertEqual((refused.exception.code, refused.exception.status), ("IDEMPOTENCY_KEY_REUSED", 409))

    def test_2_a_spec_the_coordinator_rejects_raises_its_code(self):
        with self.assertRaises(FedlearnApiError) as caught:
            self.client.submit_job({"rounds": 0, "name": "x"}, idempotency_key="manual__bad-spec")
        self.assertEqual((caught.exception.code, caught.exception.status), ("INVALID_CONFIG", 400))
        self.assertIn("rounds", caught.exception.message)

    def test_3_a_failed_job_raises_its_typed_error(self):
        spec = build_job_spec(rounds=1, clients=2, model_name="airflow-broken")
        spec["model"] = {"params": "bm90IGEgZmVkbGVhcm4gbW9kZWw="}  # base64 of text, not the wire format
        job = self.client.submit_job(spec, idempotency_key="manual__broken-weights")
        with self.assertRaises(JobFailed) as caught:
            self.wait(job["id"])
        self.assertEqual(caught.exception.job_status, "failed")
        self.assertTrue(caught.exception.code.startswith("PARAMS_"), caught.exception.code)
        self.assertIn(caught.exception.code, str(caught.exception))

    def test_4_a_cancelled_job_raises_round_aborted(self):
        spec = build_job_spec(rounds=1, clients=2, model_name="airflow-cancelled")
        spec["strategy"]["minAvailableClients"] = 50  # waits for clients that never come
        job = self.client.submit_job(spec, idempotency_key="manual__cancel-me")
        self.client.cancel_job(job["id"])
        with self.assertRaises(JobFailed) as caught:
            self.wait(job["id"])
        self.assertEqual((caught.exception.job_status, caught.exception.code), ("cancelled", "ROUND_ABORTED"))

    def test_5_a_wrong_token_is_unauthorized_and_never_echoed(self):
        intruder = CoordinatorClient(self.url, "not-the-token-0123456789")
        with self.assertRaises(FedlearnApiError) as caught:
            intruder.get_job("anything")
        self.assertEqual((caught.exception.code, caught.exception.status), ("UNAUTHORIZED", 401))
        self.assertNotIn("not-the-token", str(caught.exception))

    def test_6_unknown_job_and_unreachable_coordinator(self):
        with self.assertRaises(FedlearnApiError) as missing:
            self.client.get_job("no-such-job")
        self.assertEqual(missing.exception.code, "JOB_NOT_FOUND")
        with self.assertRaises(FedlearnApiError) as down:
            CoordinatorClient("http://127.0.0.1:9", "t" * 20, timeout=2).get_job("x")
        self.assertEqual(down.exception.code, "TRANSPORT_CLOSED")


    def test_7_the_dag_runs_end_to_end_in_the_stand_in(self):
        # The DAG's own tasks, run in order by the STAND-IN airflow package against this stack.
        from dag_loader import load_dag

        dag, _ = load_dag("3")
        env = {"FEDLEARN_COORDINATOR_URL": self.url, "FEDLEARN_API_TOKEN": self.token, "MLFLOW_TRACKING_URI": self.mlflow}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            params = {"rounds": 1, "clients": 2, "model_name": "airflow-dag", "min_accuracy": 0.0}
            log = io.StringIO()
            with contextlib.redirect_stdout(log):  # the task log
                xcoms = dag.run("scheduled__2026-12-01T00:00:00+00:00", params, on_poke=lambda _n: time.sleep(0.2))
                again = dag.run("scheduled__2026-12-01T00:00:00+00:00", params, on_poke=lambda _n: time.sleep(0.2))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.assertEqual(xcoms["wait_for_job"]["return_value"]["status"], "completed")
        self.assertRegex(log.getvalue(), r"completed — round 1/1; round 1 ok accuracy [0-9.]+ loss [0-9.]+, 2/2 clients, 0 dropped")
        self.assertIn("models:/airflow-dag/1: champion — ", log.getvalue())
        self.assertEqual(xcoms["gate_and_publish"]["return_value"], "models:/airflow-dag/1")
        self.assertEqual(xcoms["gate_and_publish"]["promotion"]["alias"], "champion")
        self.assertEqual(int(self.registry.version_by_alias("airflow-dag", "champion")["version"]), 1)
        # A second run with the same run id (a cleared and re-run DAG run) reuses the job.
        self.assertEqual(again["submit_job"]["return_value"], xcoms["submit_job"]["return_value"])


class OfflineChecks(unittest.TestCase):
    def test_job_spec_and_partition_are_checked_before_sending(self):
        for bad in (
            lambda: build_job_spec(rounds=0, clients=2),
            lambda: build_job_spec(rounds=2, clients=2, model_name="../etc"),
            lambda: build_job_spec(rounds=2, clients=2, secure_aggregation=True),
            lambda: check_partition("shards:0"),
            lambda: check_partition("random"),
        ):
            with self.assertRaises(FedlearnApiError) as caught:
                bad()
            self.assertEqual(caught.exception.code, "INVALID_CONFIG")
        self.assertEqual(check_partition("dirichlet:0.5"), "dirichlet:0.5")
        spec = build_job_spec(rounds=3, clients=4, model_name="m", secure_aggregation=True)
        self.assertEqual(spec["strategy"], {"name": "fedavg", "minFitClients": 4})
        self.assertEqual(spec["secagg"], {"enabled": True})

    def test_idempotency_key_is_checked(self):
        client = CoordinatorClient("http://127.0.0.1:9", "t" * 20)
        with self.assertRaises(FedlearnApiError) as caught:
            client.submit_job({}, idempotency_key="has space")
        self.assertEqual(caught.exception.code, "INVALID_ARGUMENT")

    def test_progress_line_names_round_metric_and_dropouts(self):
        job = {
            "id": "j1",
            "status": "running",
            "currentRound": 3,
            "spec": {"rounds": 5},
            "rounds": [{"round": 2, "status": "ok", "accuracy": 0.9123, "loss": 0.3, "completed": 2, "sampled": 3, "dropped": 1, "timedOut": 0}],
        }
        self.assertEqual(
            progress_line(job),
            "job j1 running — round 3/5; round 2 ok accuracy 0.9123 loss 0.3000, 2/3 clients, 1 dropped",
        )
        self.assertEqual(progress_line({"id": "j2", "status": "queued", "queuePosition": 2}), "job j2 queued — queue position 2")

    def test_gate_refuses_a_job_without_a_model(self):
        with self.assertRaises(FedlearnApiError) as caught:
            promotion_gate({"id": "j", "rounds": [{"round": 1, "status": "failed"}]}, MlflowRegistry("http://127.0.0.1:9"))
        self.assertEqual(caught.exception.code, "REGISTRY_NOT_FOUND")


if __name__ == "__main__":
    unittest.main()

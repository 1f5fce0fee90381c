"""fedlearn_training: start a federated training job, watch it, gate its model, publish the URI.

TaskFlow API; runs on Airflow 2.9+ and 3.x. The HTTP logic is in fedlearn_client.py beside this
file (stdlib only, tested without Airflow in examples/airflow/test/). Environment of the Airflow
workers (docker-compose.yml sets it): FEDLEARN_COORDINATOR_URL, FEDLEARN_API_TOKEN and, for the
promotion gate, MLFLOW_TRACKING_URI (+ MLFLOW_TRACKING_TOKEN when MLflow needs one).

    submit_job ──► wait_for_job (sensor, reschedule mode) ──► promotion_gate ──► XCom: model URI
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

try:  # Airflow 3: the Task SDK
    from airflow.sdk import Param, dag, get_current_context, task

    try:
        from airflow.sdk import PokeReturnValue
    except ImportError:
        from airflow.sdk.bases.sensor import PokeReturnValue
except ImportError:  # Airflow 2.9+
    from airflow.decorators import dag, task
    from airflow.models.param import Param
    from airflow.operators.python import get_current_context
    from airflow.sensors.base import PokeReturnValue
from airflow.exceptions import AirflowFailException

from fedlearn_client import (
    CoordinatorClient,
    FedlearnApiError,
    JobFailed,
    MlflowRegistry,
    build_job_spec,
    check_partition,
    final_model,
    promotion_gate,
)


def _coordinator() -> CoordinatorClient:
    url = os.environ.get("FEDLEARN_COORDINATOR_URL", "http://coordinator:8700")
    return CoordinatorClient(url, os.environ.get("FEDLEARN_API_TOKEN", ""))


@dag(
    dag_id="fedlearn_training",
    description="Federated training on the fedlearn coordinator, gated promotion in MLflow",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["fedlearn", "federated-learning"],
    params={
        "rounds": Param(5, type="integer", minimum=1, maximum=100_000, description="training rounds"),
        "clients": Param(3, type="integer", minimum=1, maximum=100_000, description="clients per round (minFitClients)"),
        "partition": Param(
            "iid",
            type="string",
            pattern=r"^(iid|shards:[1-9][0-9]{0,3}|dirichlet:[0-9]+(\.[0-9]+)?)$",
            description="how the simulated clients split the data; must match their --partition (FEDLEARN_PARTITION)",
        ),
        "secure_aggregation": Param(False, type="boolean", description="SecAgg+: the coordinator only sees the sum (needs clients >= 3)"),
        "model_name": Param("model", type="string", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="registered model name"),
        "min_accuracy": Param(0.0, type="number", minimum=0, maximum=1, description="promotion gate: the final accuracy must reach this"),
    },
)
def fedlearn_training():
    @task(retries=3, retry_delay=timedelta(seconds=30))
    def submit_job() -> str:
        """Submits the job with the DAG run id as the idempotency key: a retry never starts a second job."""
        context = get_current_context()
        params = context["params"]
        partition = check_partition(params["partition"])
        spec = build_job_spec(
            rounds=int(params["rounds"]),
            clients=int(params["clients"]),
            model_name=params["model_name"],
            secure_aggregation=bool(params["secure_aggregation"]),
        )
        try:
            job = _coordinator().submit_job(spec, idempotency_key=context["run_id"])
        except FedlearnApiError as error:
            if error.code in ("INVALID_CONFIG", "IDEMPOTENCY_KEY_REUSED", "UNAUTHORIZED"):
                raise AirflowFailException(str(error)) from error  # retrying cannot help
            raise
        print(f"job {job['id']} {job['status']} (run {context['run_id']}, clients partition {partition})")
        return job["id"]

    @task.sensor(poke_interval=30, timeout=6 * 3600, mode="reschedule")
    def wait_for_job(job_id: str) -> PokeReturnValue:
        """One look per poke; the worker slot is free in between. A failed job fails the task with its code."""
        try:
            job = _coordinator().poll_job(job_id, log=print)
        except JobFailed as failed:
            raise AirflowFailException(str(failed)) from failed
        if job is None:
            return PokeReturnValue(is_done=False)
        rounds = [
            {k: r.get(k) for k in ("round", "status", "accuracy", "loss", "model")}
            for r in job.get("rounds", [])
        ]
        return PokeReturnValue(is_done=True, xcom_value={"id": job["id"], "status": job["status"], "rounds": rounds})

    @task
    def gate_and_publish(job: dict) -> str:
        """Promotes the final model to champion if it passes, else leaves it challenger; returns its URI."""
        context = get_current_context()
        tracking_uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
        model = final_model(job)
        if model is None:
            raise AirflowFailException(f"job {job['id']} registered no model version (no successful round)")
        if not tracking_uri:
            uri = f"models:/{model['name']}/{model['version']}"
            print(f"{uri}: no MLFLOW_TRACKING_URI, so no gate here; the coordinator's own promotion policy applied")
            return uri
        registry = MlflowRegistry(tracking_uri, os.environ.get("MLFLOW_TRACKING_TOKEN") or None)
        decision = promotion_gate(job, registry, min_value=float(context["params"]["min_accuracy"]))
        print(f"{decision.model_uri}: {decision.alias} — {decision.reason}")
        context["ti"].xcom_push(key="promotion", value=decision.as_dict())
        return decision.model_uri

    gate_and_publish(wait_for_job(submit_job()))


fedlearn_training()

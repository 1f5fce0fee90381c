"""Stdlib-only client of the fedlearn coordinator's control API and MLflow's model registry.

The Airflow DAG beside this file (fedlearn_training.py) is a thin shell around it, so everything
here is testable without Airflow (examples/airflow/test/). Python 3.9+, no third-party imports.

    client = CoordinatorClient("http://coordinator:8700", token)
    job = client.submit_job(build_job_spec(rounds=5, clients=3), idempotency_key=run_id)
    job = client.wait_for_job(job["id"], log=print)          # raises JobFailed on failure
    decision = promotion_gate(job, MlflowRegistry("http://mlflow:5000"), min_accuracy=0.8)

Errors carry the coordinator's error codes (docs/errors.md): `FedlearnApiError.code` is the
`error.code` of the coordinator's answer, `JobFailed.code` the failed job's `error.code`.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional

__all__ = [
    "CoordinatorClient",
    "FedlearnApiError",
    "JobFailed",
    "MlflowRegistry",
    "PromotionDecision",
    "build_job_spec",
    "final_model",
    "progress_line",
    "promotion_gate",
]

#: Largest answer read from a server: a job view with many rounds is far below this.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Job states of the control API; the last three are final.
JOB_STATES = ("queued", "running", "paused", "completed", "failed", "cancelled")
FINAL_STATES = ("completed", "failed", "cancelled")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PARTITION = re.compile(r"^(iid|shards:[1-9][0-9]{0,3}|dirichlet:[0-9]+(\.[0-9]+)?)$")
_MAX_MESSAGE = 300


def _clip(text: Any) -> str:
    """A server's message, shortened: it goes into task logs and exception text."""
    text = str(text)
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "…"


class FedlearnApiError(Exception):
    """A refused or failed request. `code` comes from the error table (docs/errors.md)."""

    def __init__(self, code: str, message: str, status: Optional[int] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class JobFailed(FedlearnApiError):
    """A job that ended `failed` or `cancelled`; `code` is the job's error code when it has one."""

    def __init__(self, job: Dict[str, Any]):
        error = job.get("error") if isinstance(job.get("error"), dict) else {}
        status = job.get("status")
        code = str(error.get("code") or ("ROUND_ABORTED" if status == "cancelled" else "INTERNAL"))
        message = _clip(error.get("message") or f"job {job.get('id')} was {status}")
        super().__init__(code, f"job {job.get('id')} {status}: {message}")
        self.job = job
        self.job_status = status


def build_job_spec(
    rounds: int,
    clients: int,
    model_name: str = "model",
    secure_aggregation: bool = False,
    seed: int = 0,
    local_epochs: int = 1,
    batch_size: int = 32,
    learning_rate: float = 0.05,
) -> Dict[str, Any]:
    """A job spec for `POST /v1/jobs` (packages/server/src/job-spec.ts), checked before it is sent."""
    if not isinstance(rounds, int) or isinstance(rounds, bool) or not 1 <= rounds <= 100_000:
        raise FedlearnApiError("INVALID_CONFIG", "rounds must be an integer from 1 to 100000")
    if not isinstance(clients, int) or isinstance(clients, bool) or not 1 <= clients <= 100_000:
        raise FedlearnApiError("INVALID_CONFIG", "clients must be an integer from 1 to 100000")
    if not isinstance(model_name, str) or not _MODEL_NAME.match(model_name):
        raise FedlearnApiError("INVALID_CONFIG", "model name: use letters, digits, . _ - (max 64)")
    if secure_aggregation and clients < 3:
        raise FedlearnApiError("INVALID_CONFIG", "secure aggregation needs at least 3 clients per round")
    return {
        "name": model_name,
        "rounds": rounds,
        "seed": seed,
        "strategy": {"name": "fedavg", "minFitClients": clients},
        "fit": {"localEpochs": local_epochs, "batchSize": batch_size, "learningRate": learning_rate},
        "secagg": {"enabled": bool(secure_aggregation)},
    }


def check_partition(partition: str) -> str:
    """`iid`, `shards:K` or `dirichlet:ALPHA`, as the clients' --partition reads it."""
    if not isinstance(partition, str) or not _PARTITION.match(partition):
        raise FedlearnApiError("INVALID_CONFIG", "partition must be iid, shards:K or dirichlet:ALPHA")
    return partition


class _Http:
    """JSON over HTTP with urllib: bounded reads, typed errors, the token never in a message."""

    def __init__(self, base_url: str, headers: Dict[str, str], timeout: float):
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise FedlearnApiError("INVALID_CONFIG", "the URL must be http(s)://host[:port]")
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Dict[str, str]] = None,
        query: Optional[Dict[str, Any]] = None,
    ) -> "tuple[int, Any]":
        url = self.base_url + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        data = None if body is None else json.dumps(body).encode("utf-8")
        all_headers = {"accept": "application/json", **self.headers, **(headers or {})}
        if data is not None:
            all_headers["content-type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, self._json(response.read(MAX_RESPONSE_BYTES + 1), response.status)
        except urllib.error.HTTPError as error:
            raw = error.read(MAX_RESPONSE_BYTES + 1)
            raise self._error(error.code, raw) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise FedlearnApiError(
                "TRANSPORT_CLOSED", f"cannot reach {self.base_url}: {_clip(reason)}"
            ) from None

    @staticmethod
    def _json(raw: bytes, status: int) -> Any:
        if len(raw) > MAX_RESPONSE_BYTES:
            raise FedlearnApiError("PAYLOAD_TOO_LARGE", f"answer larger than {MAX_RESPONSE_BYTES} bytes", status)
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise FedlearnApiError("MALFORMED_MESSAGE", f"the answer (HTTP {status}) is not JSON", status) from None

    @classmethod
    def _error(cls, status: int, raw: bytes) -> FedlearnApiError:
        try:
            body = cls._json(raw, status)
        except FedlearnApiError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            # fedlearn's shape: {"error": {"code", "message"}}
            return FedlearnApiError(error["code"], _clip(error.get("message", "")), status)
        if isinstance(body, dict) and isinstance(body.get("error_code"), str):
            # MLflow's shape: {"error_code", "message"}
            return FedlearnApiError(_mlflow_code(body["error_code"]), _clip(body.get("message", "")), status)
        return FedlearnApiError("MALFORMED_MESSAGE", f"HTTP {status} without an error body", status)


def _mlflow_code(error_code: str) -> str:
    """MLflow's error codes in fedlearn's vocabulary (the registry's side of docs/errors.md)."""
    if error_code == "RESOURCE_DOES_NOT_EXIST":
        return "REGISTRY_NOT_FOUND"
    if error_code == "RESOURCE_ALREADY_EXISTS":
        return "REGISTRY_CONFLICT"
    if error_code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST"):
        return "INVALID_ARGUMENT"
    if error_code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return "UNAUTHORIZED"
    return "REGISTRY_UNAVAILABLE"


def _job_view(body: Any) -> Dict[str, Any]:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("id"), str)
        or body.get("status") not in JOB_STATES
        or not isinstance(body.get("rounds", []), list)
    ):
        raise FedlearnApiError("MALFORMED_MESSAGE", "the coordinator's answer is not a job view")
    return body


class CoordinatorClient:
    """The coordinator's control API (`/v1`, docs: /work/briefs/control-api-contract.md)."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0):
        if not token:
            raise FedlearnApiError("INVALID_CONFIG", "set the coordinator's API token (FEDLEARN_API_TOKEN)")
        self.http = _Http(base_url, {"authorization": f"Bearer {token}"}, timeout)

    def submit_job(
        self, spec: Dict[str, Any], idempotency_key: Optional[str] = None, priority: Optional[int] = None
    ) -> Dict[str, Any]:
        """`POST /v1/jobs`. The same key and spec again returns the job the first call made."""
        headers = {}
        if idempotency_key is not None:
            if not _IDEMPOTENCY_KEY.match(idempotency_key):
                raise FedlearnApiError("INVALID_ARGUMENT", "an idempotency key is 1-200 visible ASCII characters")
            headers["idempotency-key"] = idempotency_key
        query = None if priority is None else {"priority": int(priority)}
        _, body = self.http.request("POST", "/v1/jobs", spec, headers, query)
        return _job_view(body)

    def get_job(self, job_id: str) -> Dict[str, Any]:
        _, body = self.http.request("GET", f"/v1/jobs/{urllib.parse.quote(job_id, safe='')}")
        return _job_view(body)

    def cancel_job(self, job_id: str) -> Dict[str, Any]:
        _, body = self.http.request("POST", f"/v1/jobs/{urllib.parse.quote(job_id, safe='')}/cancel")
        return _job_view(body)

    def poll_job(self, job_id: str, log: Callable[[str], None] = print, last: Optional[List[str]] = None) -> Optional[Dict[str, Any]]:
        """One look at a job (what a reschedule-mode sensor does per poke): the job when it
        completed, None while it runs; raises JobFailed when it failed or was cancelled.
        Logs a progress line when it changed since `last[0]` (a one-element list it updates)."""
        job = self.get_job(job_id)
        line = progress_line(job)
        if last is None or not last or last[0] != line:
            log(line)
            if last is not None:
                last[:] = [line]
        if job["status"] == "completed":
            return job
        if job["status"] in ("failed", "cancelled"):
            raise JobFailed(job)
        return None

    def wait_for_job(
        self,
        job_id: str,
        log: Callable[[str], None] = print,
        poll_seconds: float = 5.0,
        timeout_seconds: Optional[float] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Dict[str, Any]:
        """Polls until the job is final, logging each change; JobFailed if it did not complete."""
        deadline = None if timeout_seconds is None else clock() + timeout_seconds
        last: List[str] = []
        while True:
            job = self.poll_job(job_id, log, last)
            if job is not None:
                return job
            if deadline is not None and clock() >= deadline:
                raise FedlearnApiError("DEADLINE_EXCEEDED", f"job {job_id} not finished after {timeout_seconds} s")
            sleep(poll_seconds)


def progress_line(job: Dict[str, Any]) -> str:
    """One line for a task log: state, round, the latest metric, who took part, who dropped."""
    spec = job.get("spec") if isinstance(job.get("spec"), dict) else {}
    total = spec.get("rounds", "?")
    parts = [f"job {job.get('id')} {job.get('status')}"]
    if job.get("status") == "queued" and job.get("queuePosition") is not None:
        parts.append(f"queue position {job['queuePosition']}")
    rounds = [r for r in job.get("rounds", []) if isinstance(r, dict)]
    current = job.get("currentRound")
    if current is not None:
        parts.append(f"round {current}/{total}")
    if rounds:
        r = rounds[-1]
        done = f"round {r.get('round')} {r.get('status')}"
        if isinstance(r.get("accuracy"), (int, float)):
            done += f" accuracy {r['accuracy']:.4f}"
        if isinstance(r.get("loss"), (int, float)):
            done += f" loss {r['loss']:.4f}"
        done += f", {r.get('completed', 0)}/{r.get('sampled', '?')} clients, {r.get('dropped', 0) + r.get('timedOut', 0)} dropped"
        parts.append(done)
    return ": ".join(parts[:1]) + (" — " + "; ".join(parts[1:]) if len(parts) > 1 else "")


def final_model(job: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The registered model of the job's last successful round, with that round's metrics."""
    for r in reversed(job.get("rounds", [])):
        if isinstance(r, dict) and r.get("status") == "ok" and isinstance(r.get("model"), dict):
            model = dict(r["model"])
            model["round"] = r.get("round")
            model["accuracy"] = r.get("accuracy")
            model["loss"] = r.get("loss")
            return model
    return None


class MlflowRegistry:
    """MLflow's model registry REST API (2.3+, aliases): what the promotion gate moves.

    POST /api/2.0/mlflow/registered-models/alias {name, alias, version}
    GET  /api/2.0/mlflow/registered-models/alias?name=&alias=  -> {"model_version": {...}}
    """

    def __init__(self, tracking_uri: str, token: Optional[str] = None, timeout: float = 30.0):
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.http = _Http(tracking_uri, headers, timeout)

    def version_by_alias(self, name: str, alias: str) -> Optional[Dict[str, Any]]:
        try:
            _, body = self.http.request(
                "GET", "/api/2.0/mlflow/registered-models/alias", query={"name": name, "alias": alias}
            )
        except FedlearnApiError as error:
            # MLflow answers a missing alias 400 INVALID_PARAMETER_VALUE, a missing model 404.
            if error.code in ("REGISTRY_NOT_FOUND", "INVALID_ARGUMENT"):
                return None
            raise
        version = body.get("model_version") if isinstance(body, dict) else None
        if not isinstance(version, dict):
            raise FedlearnApiError("REGISTRY_BAD_RESPONSE", "registered-models/alias answered without model_version")
        return version

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.http.request(
            "POST",
            "/api/2.0/mlflow/registered-models/alias",
            {"name": name, "alias": alias, "version": str(version)},
        )

    @staticmethod
    def version_metric(version: Dict[str, Any], metric: str) -> Optional[float]:
        """A version's evaluation metric: fedlearn records it as the version tag `metric.<name>`."""
        for tag in version.get("tags") or []:
            if isinstance(tag, dict) and tag.get("key") == f"metric.{metric}":
                try:
                    return float(tag.get("value"))
                except (TypeError, ValueError):
                    return None
        return None


@dataclass
class PromotionDecision:
    """What the gate did with the job's final model: pushed to XCom as a dict."""

    promoted: bool
    alias: str
    reason: str
    model_name: str
    version: int
    model_uri: str
    metric: str
    value: Optional[float]
    champion_before: Optional[int]

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def promotion_gate(
    job: Dict[str, Any],
    registry: MlflowRegistry,
    metric: str = "accuracy",
    min_value: Optional[float] = None,
    min_delta: float = 0.0,
) -> PromotionDecision:
    """Gates the job's final model on its final `metric` (higher is better): it becomes
    `champion` when it reaches `min_value` and beats the current champion by at least
    `min_delta` (or already is the champion); otherwise it stays `challenger`, with the reason.
    Raises FedlearnApiError(REGISTRY_NOT_FOUND) when the job registered no model."""
    model = final_model(job)
    if model is None:
        raise FedlearnApiError("REGISTRY_NOT_FOUND", f"job {job.get('id')} registered no model version (no successful round)")
    name, version = str(model["name"]), int(model["version"])
    uri = f"models:/{name}/{version}"
    value = model.get(metric) if metric in ("accuracy", "loss") else None
    champion = registry.version_by_alias(name, "champion")
    champion_version = int(champion["version"]) if champion else None

    def decide(promoted: bool, reason: str) -> PromotionDecision:
        return PromotionDecision(promoted, "champion" if promoted else "challenger", reason, name, version, uri, metric, value, champion_version)

    if not isinstance(value, (int, float)):
        return decide(False, f"v{version} has no {metric}: left as challenger")
    if min_value is not None and value < min_value:
        note = " (the coordinator's own policy already made it champion)" if champion_version == version else ""
        return decide(False, f"{metric} {value:.4f} is below the gate's minimum {min_value}: left as challenger{note}")
    if champion_version == version:
        return decide(True, f"v{version} is already champion ({metric} {value:.4f})")
    if champion is not None:
        best = registry.version_metric(champion, metric)
        if best is not None and value - best < max(min_delta, 1e-12):
            return decide(
                False,
                f"{metric} {value:.4f} does not beat champion v{champion_version} ({best:.4f}) by {min_delta}: left as challenger",
            )
    registry.set_alias(name, "champion", version)
    before = f"v{champion_version}" if champion_version is not None else "none"
    return decide(True, f"{metric} {value:.4f} passed the gate: champion moved from {before} to v{version}")

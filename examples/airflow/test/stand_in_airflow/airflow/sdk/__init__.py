"""Stand-in of Airflow 3's Task SDK (`airflow.sdk`); absent when STAND_IN_AIRFLOW_MAJOR=2."""

import os

if os.environ.get("STAND_IN_AIRFLOW_MAJOR") == "2":
    raise ImportError("airflow.sdk is Airflow 3 only (stand-in run as Airflow 2)")

from .._graph import DAG, Param, PokeReturnValue, dag, get_current_context, task  # noqa: E402

__all__ = ["DAG", "Param", "PokeReturnValue", "dag", "get_current_context", "task"]

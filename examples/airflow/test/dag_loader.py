"""Imports the DAG file with the STAND-IN `airflow` package (stand_in_airflow/, not Apache Airflow)."""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAND_IN = HERE / "stand_in_airflow"
DAGS = HERE.parent / "dags"


def load_dag(major: str = "3"):
    """The DAG `fedlearn_training` as the stand-in recorded it, importing as Airflow `major` would."""
    os.environ["STAND_IN_AIRFLOW_MAJOR"] = major
    for name in [m for m in sys.modules if m == "airflow" or m.startswith("airflow.") or m == "fedlearn_training"]:
        del sys.modules[name]
    for path in (str(STAND_IN), str(DAGS)):
        if path not in sys.path:
            sys.path.insert(0, path)
    module = importlib.import_module("fedlearn_training")
    from airflow._graph import DAGS as built  # the stand-in's record of every DAG built

    return built["fedlearn_training"], module

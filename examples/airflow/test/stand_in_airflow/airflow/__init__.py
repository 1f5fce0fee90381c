"""STAND-IN for the `airflow` package (not Apache Airflow): just enough of its DAG-authoring API
(TaskFlow `@dag`, `@task`, `@task.sensor`, `Param`, `PokeReturnValue`, `get_current_context`,
`AirflowFailException`) to import a DAG file, record its task graph, and run its tasks in order.
Imports and signatures follow Airflow 2.9+ (`airflow.decorators`, ...) and, unless
STAND_IN_AIRFLOW_MAJOR=2, Airflow 3's Task SDK (`airflow.sdk`)."""

from ._graph import DAG, Param, PokeReturnValue, XComArg, dag, get_current_context, task

__version__ = "stand-in"
__all__ = ["DAG", "Param", "PokeReturnValue", "XComArg", "dag", "get_current_context", "task"]

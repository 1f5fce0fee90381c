"""The stand-in's DAG model: DAGs, task nodes, XCom arguments, and a sequential runner."""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Optional

_current_dag: Optional["DAG"] = None
_current_context: Optional[Dict[str, Any]] = None
#: Every DAG built by calling a @dag function, by dag_id (what a DagBag would hold).
DAGS: Dict[str, "DAG"] = {}


class Param:
    """airflow.models.param.Param: a default value and its JSON-schema keywords."""

    def __init__(self, default: Any = None, description: Optional[str] = None, **schema: Any):
        self.value = default
        self.description = description
        self.schema = schema


class PokeReturnValue:
    """airflow.sensors.base.PokeReturnValue(is_done, xcom_value=None)."""

    def __init__(self, is_done: bool, xcom_value: Any = None):
        self.is_done = is_done
        self.xcom_value = xcom_value

    def __bool__(self) -> bool:
        return self.is_done


class XComArg:
    """The result of calling a task inside a DAG: a reference to its return value."""

    def __init__(self, node: "TaskNode"):
        self.operator = node


class TaskNode:
    def __init__(self, task_id: str, kind: str, fn: Callable, options: Dict[str, Any], args: tuple, kwargs: dict):
        self.task_id = task_id
        self.kind = kind
        self.fn = fn
        self.options = options
        self.args = args
        self.kwargs = kwargs
        self.upstream_task_ids = {
            a.operator.task_id for a in list(args) + list(kwargs.values()) if isinstance(a, XComArg)
        }
        self.downstream_task_ids: set = set()


class DAG:
    def __init__(self, dag_id: str, **options: Any):
        self.dag_id = dag_id
        self.options = options
        self.params: Dict[str, Param] = options.get("params", {})
        self.tasks: Dict[str, TaskNode] = {}

    @property
    def task_ids(self) -> List[str]:
        return list(self.tasks)

    def add(self, node: TaskNode) -> None:
        if node.task_id in self.tasks:
            raise ValueError(f"duplicate task_id {node.task_id}")
        self.tasks[node.task_id] = node
        for up in node.upstream_task_ids:
            self.tasks[up].downstream_task_ids.add(node.task_id)

    def run(self, run_id: str, params: Optional[Dict[str, Any]] = None, max_pokes: int = 10_000, on_poke: Callable[[int], None] = lambda _n: None):
        """Runs every task once, upstream first, like `airflow dags test`: sensors are poked
        until done (on_poke between pokes stands for the reschedule wait). Returns the XComs."""
        global _current_context
        values = {k: p.value for k, p in self.params.items()}
        values.update(params or {})
        xcoms: Dict[str, Dict[str, Any]] = {}
        done: set = set()
        while len(done) < len(self.tasks):
            ready = [t for t in self.tasks.values() if t.task_id not in done and t.upstream_task_ids <= done]
            node = ready[0]
            resolve = lambda a: xcoms[a.operator.task_id]["return_value"] if isinstance(a, XComArg) else a  # noqa: E731
            args = [resolve(a) for a in node.args]
            kwargs = {k: resolve(v) for k, v in node.kwargs.items()}
            pushed: Dict[str, Any] = {}
            ti = type("TaskInstance", (), {"xcom_push": lambda _self, key, value: pushed.__setitem__(key, value)})()
            _current_context = {"run_id": run_id, "params": values, "ti": ti, "task_instance": ti}
            try:
                if node.kind == "sensor":
                    for poke in range(max_pokes):
                        result = node.fn(*args, **kwargs)
                        if result:
                            pushed["return_value"] = result.xcom_value if isinstance(result, PokeReturnValue) else None
                            break
                        on_poke(poke)
                    else:
                        raise TimeoutError(f"sensor {node.task_id} not done after {max_pokes} pokes")
                else:
                    pushed["return_value"] = node.fn(*args, **kwargs)
            finally:
                _current_context = None
            xcoms[node.task_id] = pushed
            done.add(node.task_id)
        return xcoms


def get_current_context() -> Dict[str, Any]:
    if _current_context is None:
        raise RuntimeError("get_current_context() called outside a running task")
    return _current_context


def dag(dag_id: Optional[str] = None, **options: Any):
    def decorate(fn: Callable):
        @functools.wraps(fn)
        def build(*args: Any, **kwargs: Any) -> DAG:
            global _current_dag
            built = DAG(dag_id or fn.__name__, **options)
            _current_dag = built
            try:
                fn(*args, **kwargs)
            finally:
                _current_dag = None
            DAGS[built.dag_id] = built
            return built

        return build

    return decorate


def _task_decorator(kind: str, python_callable: Optional[Callable] = None, **options: Any):
    def decorate(fn: Callable):
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> XComArg:
            if _current_dag is None:
                raise RuntimeError(f"task {fn.__name__} called outside a DAG")
            node = TaskNode(options.get("task_id", fn.__name__), kind, fn, options, args, kwargs)
            _current_dag.add(node)
            return XComArg(node)

        return call

    return decorate(python_callable) if python_callable is not None else decorate


class _TaskDecorators:
    def __call__(self, python_callable: Optional[Callable] = None, **options: Any):
        return _task_decorator("python", python_callable, **options)

    def sensor(self, python_callable: Optional[Callable] = None, **options: Any):
        return _task_decorator("sensor", python_callable, **options)


task = _TaskDecorators()

from ._graph import dag, task

__all__ = ["dag", "task"]

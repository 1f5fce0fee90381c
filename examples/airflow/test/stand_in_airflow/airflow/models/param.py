from .._graph import Param

__all__ = ["Param"]

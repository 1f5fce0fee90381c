from .._graph import get_current_context

__all__ = ["get_current_context"]

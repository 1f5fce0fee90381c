from .._graph import PokeReturnValue

__all__ = ["PokeReturnValue"]

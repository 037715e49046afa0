"""Inference engines behind one interface. Qt-free: see the import contracts in pyproject.toml."""

from desktop.engines.base import (
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationStats,
    ModelInfo,
    ModelLoadError,
    SamplingParams,
)

__all__ = [
    "ContextOverflowError",
    "Engine",
    "EngineError",
    "GenerationStats",
    "ModelInfo",
    "ModelLoadError",
    "SamplingParams",
    "open_engine",
    "validate_model",
]


def validate_model(path: str) -> None:
    """A cheap check, before anything is unloaded, that ``path`` is a model we can open."""
    from desktop.engines.gguf import read_gguf

    read_gguf(path)


def open_engine(path: str, **options) -> Engine:
    """Open the model at ``path`` with the engine that fits its format."""
    from desktop.engines.llama_engine import LlamaEngine

    return LlamaEngine(path, **options)

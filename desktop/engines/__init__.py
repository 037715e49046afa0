"""Inference engines behind one interface. Qt-free: see the import contracts in pyproject.toml."""

from desktop.engines.base import (
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationStats,
    ModelInfo,
    ModelLoadError,
    SamplingParams,
    is_remote,
)

__all__ = [
    "ContextOverflowError",
    "Engine",
    "EngineError",
    "GenerationStats",
    "ModelInfo",
    "ModelLoadError",
    "SamplingParams",
    "detect_backend",
    "is_remote",
    "open_engine",
    "validate_model",
]


BACKENDS = ("llama", "onnx", "remote")
# A remote id names a saved server and a key in the keyring, which the model layer keeps:
# desktop.models.open_model resolves it and hands the remote engine an address and a key.
LOCAL_BACKENDS = ("llama", "onnx")


def _not_local(backend: str) -> str:
    if backend == "remote":
        return "A remote model is opened through desktop.models.open_model, which resolves its server."
    return f"Unknown engine {backend!r}: use one of {', '.join(BACKENDS)}."


def detect_backend(path: str) -> str:
    """'onnx' for an ONNX GenAI folder (or its genai_config.json), 'llama' for a file,
    'remote' for a model on a server (``remote://<server_id>/<model>``)."""
    if is_remote(str(path)):
        return "remote"
    from desktop.engines.onnx_engine import is_onnx_model

    return "onnx" if is_onnx_model(path) else "llama"


def validate_model(path: str, backend: str | None = None) -> None:
    """A cheap check, before anything is unloaded, that ``path`` is a local model we can open."""
    backend = backend or detect_backend(path)
    if backend not in LOCAL_BACKENDS:
        raise EngineError(_not_local(backend))
    if backend == "onnx":
        from desktop.engines.onnx_engine import validate_folder

        validate_folder(path)
    else:
        from desktop.engines.gguf import read_gguf

        read_gguf(path)


def open_engine(
    path: str, backend: str | None = None, device: str = "auto", in_process: bool = False,
    abort=None, **options,
) -> Engine:
    """Open the local model at ``path`` with the engine that fits its format (or ``backend``).

    The ONNX engine runs in a child process unless ``in_process``: its bindings hold the GIL
    while computing (see process_engine.py). ``abort`` (an Event) gives up a child process
    that is still starting, so closing the app never waits for a slow load.
    """
    backend = backend or detect_backend(path)
    if backend not in LOCAL_BACKENDS:
        raise EngineError(_not_local(backend))
    if backend == "onnx":
        if not in_process:
            from desktop.engines.process_engine import ProcessEngine

            return ProcessEngine("onnx", path, device=device, abort=abort, **options)
        from desktop.engines.onnx_engine import OnnxEngine

        return OnnxEngine(path, device=device, **options)
    from desktop.engines.llama_engine import LlamaEngine

    return LlamaEngine(path, device=device, **options)

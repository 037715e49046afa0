"""``edgechat --self-test``: is this installation whole? Works frozen and from source.

Checks what a first run needs, with no network: the resources, Qt, both engines (and which CPU
variant of llama.cpp this machine got), the bundled model, a short real generation, the child
process the ONNX engine runs in, and a writable user data folder outside the install folder.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable


def _check(name: str, fn: Callable[[], str], results: list) -> None:
    started = time.perf_counter()
    try:
        detail, ok = fn(), True
    except Exception as exc:  # noqa: BLE001 - every failure is a line of the report
        detail, ok = f"{type(exc).__name__}: {exc}", False
        if os.environ.get("EDGECHAT_DEBUG"):
            traceback.print_exc()
    results.append({"name": name, "ok": ok, "detail": detail,
                    "seconds": round(time.perf_counter() - started, 3)})


def _resources() -> str:
    from importlib.resources import files

    from desktop.models.catalog import load_catalog

    icon = files("desktop.resources").joinpath("edgechat.png").read_bytes()
    if not icon.startswith(b"\x89PNG"):
        raise RuntimeError("the app icon is not a PNG")
    catalog = load_catalog()
    if catalog.skipped:
        raise RuntimeError(f"{len(catalog.skipped)} catalog entries were skipped")
    return f"catalog {catalog.catalog_version}: {len(catalog.models)} models; icon {len(icon)} bytes"


def _qt() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        or sys.platform in ("win32", "darwin")) else "")
    if not os.environ["QT_QPA_PLATFORM"]:
        del os.environ["QT_QPA_PLATFORM"]
    from PySide6 import __version__ as pyside
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(["edgechat-self-test"])
    label = QLabel("EdgeChat")
    label.show()
    app.processEvents()
    label.close()
    return f"PySide6 {pyside}, platform {app.platformName()}"


def _llama(state: dict) -> str:
    import llama_cpp

    from desktop.engines.llama_backends import ensure_loaded, variant_files

    variant = ensure_loaded(llama_cpp)
    state["cpu_variant"] = variant or "built-in"
    info = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
    features = [part.split("=")[0].split(":")[-1].strip() for part in info.split("|")
                if part.strip().endswith("= 1")]
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    kinds = f"{len(variant_files(llama_cpp))} CPU variants" if variant else "one CPU build"
    return (f"llama-cpp-python {llama_cpp.__version__}; CPU variant: {state['cpu_variant']} "
            f"({kinds}); features: {', '.join(features[:12])}; GPU offload: {gpu}")


def _onnx() -> str:
    from desktop.engines.onnx_engine import available_devices
    from desktop.privacy import import_genai

    og = import_genai()

    devices = [d for d, ok in available_devices(og).items() if ok]
    return f"onnxruntime-genai {og.__version__}; devices: {', '.join(devices)}"


def _child_probe(conn) -> None:
    from desktop.privacy import import_genai

    og = import_genai()
    conn.send(og.__version__)
    conn.close()


def _onnx_process() -> str:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_child_probe, args=(child,), daemon=True)
    process.start()
    child.close()
    if not parent.poll(60):
        process.kill()
        raise RuntimeError("the engine child process did not answer")
    version = parent.recv()
    process.join(10)
    return f"child process started and loaded onnxruntime-genai {version}"


def _model(state: dict) -> str:
    from desktop.engines.gguf import read_gguf
    from desktop.models.default_model import default_model_path

    path = default_model_path()
    info = read_gguf(path)
    state["model"] = str(path)
    return f"{path.name}: {info.architecture}, {info.quantization}, {info.file_size:,} bytes"


def _generation(state: dict) -> str:
    from desktop.engines.base import SamplingParams
    from desktop.engines.llama_engine import LlamaEngine

    with LlamaEngine(state["model"], n_ctx=512) as engine:
        text = "".join(engine.stream([{"role": "user", "content": "Say hello."}],
                                     SamplingParams(temperature=0, max_tokens=8)))
        stats = engine.last_stats
    if not text.strip():
        raise RuntimeError("the model produced no text")
    return (f"{stats.completion_tokens} tokens at {stats.tokens_per_s or 0:.0f} tokens/s, "
            f"first after {stats.ttft_s:.2f} s: {text.strip()[:40]!r}")


def _api_server(state: dict) -> str:
    """The OpenAI-compatible server stack end to end: uvicorn and Starlette serving the model,
    asked by the official openai client over loopback (a bundle that misses one of them fails)."""
    import openai

    from desktop.server.app import create_app
    from desktop.server.backend import EngineBackend
    from desktop.server.runner import ServerThread

    backend = EngineBackend(state["model"], n_ctx=512)
    server = None
    try:
        card = backend.wait_loaded(120)
        server = ServerThread(create_app(backend), port=0)
        server.start()
        client = openai.OpenAI(base_url=server.url, api_key="none", max_retries=0, timeout=60)
        reply = client.chat.completions.create(
            model=card.id, messages=[{"role": "user", "content": "Say hello."}], max_tokens=4, temperature=0)
    finally:
        if server is not None:
            server.stop()
        backend.close()
    text = reply.choices[0].message.content or ""
    if not text.strip():
        raise RuntimeError("the API server answered with no text")
    return f"{server.url} served {card.id}: {text.strip()[:30]!r}"


def _user_data() -> str:
    from pathlib import Path

    from desktop.paths import data_dir

    folder = data_dir()
    probe = folder / ".self-test"
    probe.write_text("ok")
    probe.unlink()
    install = Path(sys.executable).resolve().parent
    if getattr(sys, "frozen", False) and install in folder.resolve().parents:
        raise RuntimeError(f"user data {folder} is inside the install folder {install}")
    return f"writable: {folder}"


def run() -> dict:
    from desktop import __version__

    state: dict = {}
    results: list = []
    _check("resources", _resources, results)
    _check("qt", _qt, results)
    _check("llama.cpp", lambda: _llama(state), results)
    _check("onnxruntime-genai", _onnx, results)
    _check("engine child process", _onnx_process, results)
    _check("bundled model", lambda: _model(state), results)
    if "model" in state:
        _check("generation", lambda: _generation(state), results)
        _check("api server", lambda: _api_server(state), results)
    _check("user data", _user_data, results)
    return {
        "ok": all(r["ok"] for r in results) and len(results) == 9,
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "platform": sys.platform,
        "cpu_variant": state.get("cpu_variant"),
        "checks": results,
    }


def main(as_json: bool) -> int:
    report = run()
    if as_json:
        print(json.dumps(report))
    else:
        print(f"EdgeChat {report['version']} self-test ({'bundle' if report['frozen'] else 'source'})")
        for r in report["checks"]:
            print(f"  [{'ok' if r['ok'] else 'FAIL'}] {r['name']}: {r['detail']}")
        print("All checks passed." if report["ok"] else "Some checks FAILED.")
    return 0 if report["ok"] else 1

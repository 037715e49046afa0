"""What the import contracts and the start-up budget rely on, checked in a fresh interpreter."""

import subprocess
import sys

CORE = ["desktop.engines", "desktop.engines.llama_engine", "desktop.engines.gguf",
        "desktop.engines.chat_template", "desktop.engines.context", "desktop.storage",
        "desktop.models.default_model", "desktop.paths"]


def loaded_modules(*imports: str) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in imports) + "print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_is_qt_free():
    mods = loaded_modules(*CORE)
    assert not {m for m in mods if m.startswith(("PySide6", "shiboken6"))}


def test_window_path_defers_the_engine():
    # The window must be up in well under a second: llama_cpp (and numpy) load on the worker.
    mods = loaded_modules("desktop.app", "desktop.ui.main_window", "desktop.workers.generation")
    assert "llama_cpp" not in mods and "numpy" not in mods


def test_workers_build_no_widgets():
    mods = loaded_modules("desktop.workers.generation")
    assert "PySide6.QtWidgets" not in mods and "PySide6.QtGui" not in mods


def test_resources_ship_inside_the_package():
    from importlib.resources import files

    icon = files("desktop.resources").joinpath("edgechat.png")
    assert icon.is_file() and icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

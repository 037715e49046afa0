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


def import_circles(graph, package: str) -> list[list[str]]:
    """The strongly connected sets of ``package``'s modules: each a circle of imports (imports
    inside functions count: a lazy import still ties the two modules together)."""
    ours = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in ours:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == module:
                    break
            if len(members) > 1:
                circles.append(sorted(members))

    for module in ours:
        if module not in index:
            visit(module)
    return circles


def test_the_circle_finder_finds_a_circle_through_a_package():
    import grimp

    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(module)
    graph.add_import(importer="pkg", imported="pkg.a")
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg")  # back up to the package's __init__
    graph.add_import(importer="pkg.c", imported="pkg.d")
    assert import_circles(graph, "pkg") == [["pkg", "pkg.a", "pkg.b"]]


def test_desktop_has_no_import_circles():
    import grimp

    circles = import_circles(grimp.build_graph("desktop"), "desktop")
    assert circles == [], "import circles (lazy imports included): " + "; ".join(
        " <-> ".join(circle) for circle in circles)

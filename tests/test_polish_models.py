"""Models and their settings as a user meets them: the context field's limit, what a refused
message offers, a model file opened once and kept, a chat that remembers its model, one context
for the window and the command line, a quiet terminal, and the setup's reused llama.cpp build.

The real model, real widgets, real subprocesses of ``edgechat``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop.models import load_settings
from desktop.models.load_settings import LoadSettings
from desktop.ui import settings_keys
from desktop.ui.model_picker import same_model

ROOT = Path(__file__).resolve().parent.parent
# What llama.cpp's own log lines start with (llama_context:, llama_model_load:, ggml_..., load_...).
LLAMA_LINE = re.compile(r"^(llama|ggml|gguf|load|print_info|init|sched|graph_)\w*:", re.MULTILINE)


@pytest.fixture(autouse=True)
def _no_remembered_model():
    QSettings().remove(settings_keys.LAST_MODEL)
    yield
    QSettings().remove(settings_keys.LAST_MODEL)


# -- the context field -----------------------------------------------------------------------
def test_the_context_field_says_its_limit_instead_of_cutting_what_was_typed(qtbot, model_path):
    from desktop.ui.load_settings_dialog import LoadSettingsDialog

    dialog = LoadSettingsDialog(str(model_path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    # No empty band above the first line: the header is as tall as its text at its width.
    header = dialog.header
    assert header.height() <= header.heightForWidth(header.width()) + 2
    assert header.y() <= dialog.layout().contentsMargins().top() + 1

    dialog.focus_field("n_ctx")
    qtbot.keyClicks(dialog.n_ctx, "16384")
    assert dialog.n_ctx.value() == 16384  # as typed, not "1,638"
    note = dialog.n_ctx_note
    assert note.isVisibleTo(dialog)
    assert "trained for at most 8,192 tokens" in note.text()
    assert "Get more models" in note.text()
    assert not dialog.reload_button.isEnabled()
    qtbot.wait(50)
    assert note.height() >= note.heightForWidth(note.width())  # the whole note shows
    dialog.apply()  # Enter on the dialog: nothing is saved or loaded at a length it cannot have
    assert dialog.isVisible() and load_settings.get(model_path) is None

    dialog.n_ctx.selectAll()
    qtbot.keyClicks(dialog.n_ctx, "8192")
    assert dialog.n_ctx.value() == 8192
    assert not note.isVisibleTo(dialog) and dialog.reload_button.isEnabled()
    # The arrows stop at the limit.
    dialog.n_ctx.stepBy(3)
    assert dialog.n_ctx.value() == 8192
    dialog.n_ctx.stepBy(-1)
    assert dialog.n_ctx.value() == 8192 - 1024
    assert dialog.settings().n_ctx == 8192 - 1024
    dialog.reject()


# -- what a refused message offers -----------------------------------------------------------
@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen has no window stack
def test_a_refused_message_offers_what_helps_when_the_context_cannot_grow(make_window, qtbot,
                                                                           model_path):
    from desktop.engines.base import ContextOverflowError
    from desktop.engines.context import fit_messages

    window = make_window()
    info = window.model_info
    assert info.n_ctx == info.context_length == 8192  # loaded with all it was trained for
    meter = window.context_meter
    window.session.params = {"max_tokens": 4096}
    text = "A very long message about many things. " * 600  # ~5,000 tokens; 4,096 free for it
    window.prompt.setPlainText(text)
    qtbot.waitUntil(lambda: meter.counted_draft == text.strip() and meter.state == "full", timeout=60_000)
    window.send(text)
    assert meter.state == "refused" and window.store.conversations() == []
    words = meter.label.text()
    assert "reads at most 8,192" in words and "model made for longer texts" in words
    assert "the system prompt or the reply in Chat settings" in words  # its button is beside
    assert "raise Context length" not in words  # the field is at its limit already
    assert not meter.settings_button.isVisible() and meter.library_button.isVisible()
    qtbot.wait(50)
    assert meter.library_button.width() >= meter.library_button.sizeHint().width()  # read whole

    meter.library_button.click()
    library = window.library_window
    assert library is not None and library.isVisible() and library.tabs.currentIndex() == 1
    library.close()

    # An engine's error that names the setting offers the same, not the field.
    with pytest.raises(ContextOverflowError) as overflow:
        fit_messages([{"role": "user", "content": "x " * 100}], lambda m: 1000, 100)
    window.show_error(str(overflow.value))
    assert window.banner_fix.isVisible() and window.banner_fix.text() == "Models for longer texts…"
    window.banner_fix.click()
    assert library.isVisible() and library.tabs.currentIndex() == 1

    # With room to grow, the field is offered too.
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window.load_model(str(model_path), n_ctx=1024)
    window.session.params = {"max_tokens": 512}
    text = "A very long message about many things. " * 100  # ~900 tokens; 512 free for it
    window.prompt.setPlainText(text)
    qtbot.waitUntil(lambda: meter.counted_draft == text.strip() and meter.state == "full", timeout=60_000)
    window.send(text)
    assert "raise Context length" in meter.label.text()
    assert meter.settings_button.isVisible() and meter.library_button.isVisible()
    window.show_error(str(overflow.value))
    assert window.banner_fix.text() == "Change the context length…"


# -- a model file opened once ----------------------------------------------------------------
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_a_model_file_opened_stays_listed_until_it_is_removed(make_window, qtbot, tmp_path, model_path):
    from desktop.models.library import Library

    opened = tmp_path / "elsewhere" / "Opened-Model.Q4_1.gguf"
    opened.parent.mkdir()
    shutil.copyfile(model_path, opened)
    window = make_window()
    picker = window.model_picker
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        window._switch_model(str(opened))  # what File ▸ Open model file… does with the file chosen
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        picker.choose(str(model_path))  # another model is picked
    (entry,) = [e for e in picker.entries() if same_model(e.id, str(opened))]
    assert entry.name == "Opened-Model.Q4_1" and entry.format == "GGUF" and not entry.missing
    picker.menu.aboutToShow.emit()
    texts = [a.text() for a in picker.menu.actions()]
    assert any(t.startswith("Opened-Model.Q4_1\t") for t in texts)
    (kept,) = [m for m in Library().models() if m.source == "opened"]
    assert same_model(kept.path, str(opened))

    library = window.show_library()
    rows = library.installed_model.rows()
    (row,) = [r for r in rows if same_model(r.path, str(opened))]
    assert row.source == "opened" and not row.loaded
    assert library.installed_model.index(rows.index(row), 5).data() == "Opened from a file"
    library.installed_view.setCurrentIndex(library.installed_model.index(rows.index(row), 0))
    with qtbot.waitSignal(library.tasks.library.removed, timeout=30_000):
        library._remove_selected(confirm=False)
    assert opened.exists()  # unlisted, never deleted
    assert not any(same_model(e.id, str(opened)) for e in picker.entries())
    assert not any(same_model(r.path, str(opened)) for r in library.installed_model.rows())
    library.close()


# -- a chat remembers its model --------------------------------------------------------------
def test_a_reopened_chat_offers_the_model_that_wrote_it(make_window, qtbot, tmp_path, model_path):
    other = tmp_path / "models" / "Other-Model.Q4_1.gguf"
    other.parent.mkdir()
    shutil.copyfile(model_path, other)
    from PySide6.QtCore import QSettings

    from desktop.ui import settings_keys

    # The first start's layout, not the one an earlier test's window left behind.
    for key in (settings_keys.GEOMETRY, settings_keys.SPLITTER, settings_keys.CHAT_SETTINGS_SHOWN):
        QSettings().remove(key)
    window = make_window()
    picker = window.model_picker
    window.session.params = {"temperature": 0, "max_tokens": 4}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Hi")
    first = window.session.current_id
    assert window.store.messages(first)[-1].meta["model_id"] == str(model_path)
    assert not picker.chat_offer.isVisible()

    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000):
        picker.choose(str(other))
    # Loading another model keeps the chat open: it says which model wrote it.
    assert picker.chat_offer.isVisible()
    assert picker.chat_offer_label.text() == "This chat was written with SmolLM2-135M-Instruct."
    # In the narrowest chat column (800 pixels, the drawer open) it takes two lines, whole, and
    # does not widen the window.
    window.resize(800, 600)
    window.show_chat_settings(True, focus=False)
    qtbot.wait(200)
    label = picker.chat_offer_label
    assert window.width() == 800 and label.height() >= label.heightForWidth(label.width())
    assert picker.chat_offer_button.width() >= picker.chat_offer_button.sizeHint().width()
    window.show_chat_settings(False)
    window.new_chat()
    assert not picker.chat_offer.isVisible()
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000):
        window.send("Hello")
    second = window.session.current_id
    assert not picker.chat_offer.isVisible()  # written with the model loaded

    window.session.open_conversation(first)
    assert picker.chat_offer.isVisible() and not picker.detail.isVisible()
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000) as loaded:
        picker.chat_offer_button.click()
    assert same_model(loaded.args[0].path, str(model_path))
    assert window.session.current_id == first and not picker.chat_offer.isVisible()
    window.session.open_conversation(second)
    assert picker.chat_offer.isVisible()
    assert picker.chat_offer_label.text() == "This chat was written with Other-Model.Q4_1."


# -- one context for the window, ask and serve -----------------------------------------------
def _edgechat(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def _ask_n_ctx(*flags: str) -> int:
    done = _edgechat("ask", "--json", "--max-tokens", "2", "--temperature", "0", *flags, "Hi")
    assert done.returncode == 0, done.stderr
    # The terminal gets the reply and nothing of llama.cpp's log.
    assert not LLAMA_LINE.search(done.stderr), done.stderr
    assert done.stderr.strip() == ""
    return json.loads(done.stdout)["n_ctx"]


def _serve_n_ctx(*flags: str) -> int:
    process = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", "0", *flags],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
    lines: list[str] = []
    serving = threading.Event()

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            if line.startswith("Serving "):
                serving.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert serving.wait(180), "".join(lines)
        url = re.search(r"at (http://\S+/v1)", lines[-1]).group(1)
        with urllib.request.urlopen(f"{url}/models", timeout=30) as response:
            (card,) = json.load(response)["data"]
    finally:
        process.terminate()
        process.wait(30)
        reader.join(10)
    assert not LLAMA_LINE.search("".join(lines)), "".join(lines)
    return card["context_length"]


@pytest.mark.slow
def test_the_window_ask_and_serve_load_a_model_with_the_same_context(make_window, model_path):
    window = make_window()
    recommended, _ = load_settings.defaults_for(model_path)
    assert window.model_info.n_ctx == recommended.n_ctx
    assert _ask_n_ctx() == _serve_n_ctx() == window.model_info.n_ctx
    # What the user saved for the model applies everywhere; a flag given for one run wins.
    load_settings.save(model_path, LoadSettings(n_ctx=2048))
    assert _ask_n_ctx() == _serve_n_ctx() == 2048
    assert _ask_n_ctx("--ctx", "1024") == _serve_n_ctx("--ctx", "1024") == 1024


# -- a quiet terminal ------------------------------------------------------------------------
def test_llama_cpp_log_lines_go_to_the_log_file_not_the_terminal(data_dir, model_path):
    # The context counter's tokenizer-only model makes llama.cpp warn at every load (its
    # training length reads as 0): that warning reached the terminal.
    script = ("from desktop.logs import setup_logging; setup_logging()\n"
              "from desktop.engines.counter import open_counter\n"
              f"counter = open_counter({str(model_path)!r})\n"
              "print(counter.measure([{'role': 'user', 'content': 'Hi'}]) > 0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    log = (data_dir / "logs" / "edgechat.log").read_text(encoding="utf-8")
    assert "desktop.engines.llama_cpp" in log and "n_ctx_train" in log


# -- the setup's llama.cpp wheelhouse --------------------------------------------------------
FAKE_PIP = r"""#!/usr/bin/env bash
# A Python whose 'pip wheel' pretends to compile llama.cpp (a few seconds of progress lines).
if [ "$1" = "-m" ] && [ "$2" = "pip" ] && [ "$3" = "wheel" ]; then
    echo "$@" >> "$FAKE_CALLS"
    out=""
    while [ $# -gt 0 ]; do [ "$1" = "-w" ] && out="$2"; shift; done
    for step in 1 2 3; do echo "[$step/3] Building CXX object ggml-cpu.cpp.o"; sleep 1; done
    sleep 2
    mkdir -p "$out" && echo wheel > "$out/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
    exit 0
fi
exec "$REAL_PYTHON" "$@"
"""


def _setup(function: str, py: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f'source scripts/_setup.sh && {function} "$0"', py],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)


def test_the_setup_builds_llama_cpp_once_and_every_clone_reuses_it(tmp_path):
    fake = tmp_path / "python"
    fake.write_text(FAKE_PIP)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    env = {**os.environ, "EDGECHAT_WHEELHOUSE": str(tmp_path / "house"), "FAKE_CALLS": str(calls),
           "REAL_PYTHON": sys.executable, "EDGECHAT_PROGRESS_INTERVAL_S": "1", "CMAKE_ARGS": ""}
    key = _setup("llama_wheel_key", str(fake), env).stdout.strip()
    assert key and key == _setup("llama_wheel_key", sys.executable, env).stdout.strip()
    # A build configured otherwise is another wheel.
    assert _setup("llama_wheel_key", sys.executable, {**env, "CMAKE_ARGS": "-DGGML_CUDA=on"}).stdout != key

    started = time.monotonic()
    built = _setup("ensure_llama_wheel", str(fake), env)
    assert built.returncode == 0, built.stderr
    assert "Building llama.cpp" in built.stdout and "about 5-10 min on 2 cores" in built.stdout
    # Said while it works, with how far it got.
    assert re.search(r"still compiling llama\.cpp: 0 min \d+ s so far, step [123]/3", built.stdout)
    wheels = list((tmp_path / "house" / key).glob("llama_cpp_python-0.3.36-*.whl"))
    assert len(wheels) == 1 and calls.read_text().count("pip wheel") == 1

    # Another clone (another venv, the same user cache): no compiler runs.
    reused = _setup("ensure_llama_wheel", str(fake), env)
    assert reused.returncode == 0 and "reusing the build" in reused.stdout
    assert calls.read_text().count("pip wheel") == 1
    assert time.monotonic() - started < 100

""""Recommended for this computer" holds still: noisy replies do not move it, a large lasting
change does, and the welcome's card, the library and ``edgechat models recommend`` name the same
model with the same figures (the real widgets, the real catalog, the CLI in this process)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.hardware import HardwareProfile
from desktop.models import recommend, speed
from desktop.models.catalog import load_catalog
from desktop.ui.table_model import Roles
from desktop.units import GIB

COPY_BANDWIDTH = 20e9  # the settled memory probe: decoding reads weights at 0.3 of it
MEASURED_BYTES = 270_000_000  # the model the replies below come from
DEFAULT_THREADS = 4


def machine(ram_gib: float = 16, available_gib: float | None = None) -> HardwareProfile:
    return HardwareProfile(
        os="Linux", os_version="6.8", machine="x86_64", cpu_name="Test CPU", physical_cores=4,
        logical_cores=8, cpu_features=["avx2"], cpu_features_source="test",
        ram_total=int(ram_gib * GIB), ram_available=int((available_gib or ram_gib * 0.9) * GIB), gpus=[],
        llama_gpu_offload=False, llama_backends=[], onnx_providers=["cpu"], models_dir="/models",
        disk_free=100 * GIB, memory_bandwidth=COPY_BANDWIDTH)


@pytest.fixture
def replies(monkeypatch):
    """reply(rate, others=..., threads=..., tokens=...): one finished reply as the window reports
    it (ModelInfo, GenerationStats), with what other programs used of the CPU meanwhile."""
    shares = []
    monkeypatch.setattr(speed, "default_threads", lambda: DEFAULT_THREADS)
    monkeypatch.setattr(speed, "others_share", lambda since, now=None: shares.pop(0))
    assert speed.settle_probe(probe=lambda: COPY_BANDWIDTH, quiet=True) == COPY_BANDWIDTH

    def reply(rate: float, others: float | None = 0.02, threads: int = DEFAULT_THREADS,
              tokens: int = 120) -> bool:
        shares.append(others)
        info = SimpleNamespace(path="/models/small.gguf", file_size=MEASURED_BYTES, backend="llama",
                               device="CPU", extra={"threads": threads})
        stats = SimpleNamespace(tokens_per_s=rate, completion_tokens=tokens)
        speed.reply_started()
        kept = speed.record_reply(info, stats)
        assert shares == []
        return kept

    return reply


def test_noisy_replies_leave_the_pick_and_its_figures_where_they_are(replies):
    catalog, here = load_catalog(), machine()
    pick = recommend.recommend(here, catalog)
    assert pick is not None and pick.label in ("fast", "usable")
    normal = COPY_BANDWIDTH * speed.PROBE_TO_DECODE / MEASURED_BYTES  # what the probe predicts
    noisy = [
        (normal, dict()),
        (normal / 3, dict(others=0.7)),  # a build ran meanwhile
        (normal / 2.5, dict(others=0.5)),
        (normal / 4, dict(threads=1)),  # the user lowered the threads for this load
        (normal * 4, dict(tokens=6)),  # "Hi!": too short to say anything about the speed
        (normal * 0.9, dict()),
        (normal * 1.15, dict()),
        (normal * 0.6, dict(others=None)),  # busy, unnoticed (no CPU accounting here)
        (normal * 0.8, dict()),
        (normal * 1.1, dict()),
        (normal / 3, dict(others=0.9)),
    ]
    kept = []
    for rate, how in noisy:
        kept.append(replies(rate, **how))
        assert recommend.recommend(here, catalog) == pick, (rate, how)
    assert kept == [True, False, False, False, False, True, True, True, True, True, False]
    # What free memory does this minute does not matter either: the pick is judged on a steady
    # share of the RAM.
    assert recommend.recommend(machine(available_gib=3), catalog) == pick
    assert recommend.recommend(machine(available_gib=15.5), catalog) == pick


def test_a_large_lasting_change_moves_the_pick_once(replies):
    catalog, here = load_catalog(), machine()
    pick = recommend.recommend(here, catalog)
    normal = COPY_BANDWIDTH * speed.PROBE_TO_DECODE / MEASURED_BYTES
    for _ in range(4):
        replies(normal)
    picks = []
    for _ in range(speed.KEEP_PER_MODEL):  # three times as fast, reply after reply
        assert replies(3 * normal)
        picks.append(recommend.recommend(here, catalog))
    assert picks[0] == pick  # not on the first fast reply
    moved = picks[-1]
    assert moved != pick and moved.params > pick.params
    assert moved.estimate.measured and "replies measured on this computer" in moved.estimate.note
    changes = sum(1 for a, b in zip([pick, *picks], picks, strict=False) if a != b)
    assert changes == 1, [p.name for p in picks]


def test_the_same_catalog_and_machine_always_give_the_same_pick():
    catalog = load_catalog()
    assert speed.settle_probe(probe=lambda: COPY_BANDWIDTH, quiet=True)
    picks = {recommend.recommend(machine(), catalog) for _ in range(3)}
    assert len(picks) == 1


# -- card, library and CLI ---------------------------------------------------------------------

def edgechat(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen has no window stack
def test_card_library_and_cli_name_the_same_model_with_the_same_figures(make_window, qtbot, monkeypatch):
    # A quiet moment: the memory probe is settled once, by whichever asks first.
    monkeypatch.setattr(speed, "machine_is_quiet", lambda *args, **kwargs: True)
    window = make_window()  # the bundled model: the welcome looks for a better one
    welcome = window.welcome
    qtbot.waitUntil(lambda: welcome.card.isVisible(), timeout=60_000)
    pick = welcome.recommendation
    assert pick is not None

    # The card.
    assert welcome.recommend_label.text() == f"Recommended for this computer: {pick.name} {pick.speed_text}"
    for figure in (pick.quantization, pick.size_text, pick.format_text):
        assert figure in welcome.recommend_detail.text()

    # The command line, another process on the same data folder.
    assert f"Recommended for this computer: {pick.summary}" in edgechat("models", "recommend")
    said = json.loads(edgechat("models", "recommend", "--json").strip().splitlines()[-1])
    assert (said["model"], said["variant"], said["speed_text"], said["size_text"]) == (
        pick.model_id, pick.variant_id, pick.speed_text, pick.size_text)

    # The library, opened by the card's "Get it", on exactly that model and variant.
    qtbot.mouseClick(welcome.get_button, Qt.MouseButton.LeftButton)
    library = window.library_window
    qtbot.waitUntil(lambda: library.catalog is not None, timeout=60_000)
    assert library.recommendation == pick
    assert library.recommended_label.text() == f"Recommended for this computer: {pick.summary}"
    shown = library.catalog_view.currentIndex().data(Roles.Row)
    assert (shown.model.id, shown.variant.id) == (pick.model_id, pick.variant_id)
    assert pick.speed_text in library._rating_text(shown)
    assert pick.speed_text in library.details.toPlainText()

    # Whatever the card names is what "Get it" opens, even another model than the library's own.
    others = [c for c in recommend.candidates(library.profile, library.catalog)
              if c.model_id != pick.model_id]
    assert others
    other = others[-1]
    welcome.set_recommendation(other)
    library.tabs.setCurrentIndex(0)
    qtbot.mouseClick(welcome.get_button, Qt.MouseButton.LeftButton)
    assert library.tabs.currentIndex() == 1
    shown = library.catalog_view.currentIndex().data(Roles.Row)
    assert (shown.model.id, shown.variant.id) == (other.model_id, other.variant_id)


# -- the welcome does not jump -------------------------------------------------------------------

# The welcome's own size in an 800×600 and a 1280×800 window (the chat list shown), and a wide one.
@pytest.mark.parametrize("size", [(544, 420), (1024, 620), (1600, 700)])
def test_the_welcome_does_not_move_when_the_card_appears(qtbot, size):
    from desktop.ui.welcome import WelcomeView

    view = WelcomeView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)

    def places():
        return [(w.mapTo(view, QPoint(0, 0)), w.size()) for w in (view.title, *view.example_buttons)]

    qtbot.wait(20)
    before = places()
    pick = recommend.candidates(machine(), load_catalog())[0]
    view.set_recommendation(pick)
    qtbot.waitUntil(view.card.isVisible)
    qtbot.wait(20)
    assert places() == before
    # The card is whole inside the view, below the examples.
    card_top = view.card.mapTo(view, QPoint(0, 0)).y()
    assert card_top > before[-1][0].y() + before[-1][1].height()
    assert card_top + view.card.height() <= view.height()
    view.set_recommendation(None)
    qtbot.wait(20)
    assert places() == before

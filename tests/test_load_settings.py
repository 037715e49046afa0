"""Load settings per model: kept per model id, defaults from this machine's fit with a reason for
each, applied at load (the engine reports what was asked for) and shown in the dialog."""

from __future__ import annotations

import json
import shutil

import pytest

from desktop.hardware import HardwareProfile
from desktop.models import load_settings
from desktop.models.load_settings import LoadSettings
from desktop.units import GIB, MIB


def profile(ram_available: int = 16 * GIB, cores: int = 4) -> HardwareProfile:
    return HardwareProfile(
        os="Linux", os_version="6", machine="x86_64", cpu_name="test", physical_cores=cores,
        logical_cores=cores * 2, cpu_features=[], cpu_features_source="test",
        ram_total=max(ram_available, 16 * GIB), ram_available=ram_available, gpus=[],
        llama_gpu_offload=False, llama_backends=[], onnx_providers=["cpu"])


def test_settings_are_kept_per_model_in_the_data_folder(data_dir, model_path, tmp_path):
    other = tmp_path / "other.gguf"
    shutil.copyfile(model_path, other)
    assert load_settings.get(model_path) is None
    mine = LoadSettings(n_ctx=1024, n_threads=1, kv_type="q8_0", flash_attn=True)
    load_settings.save(str(model_path), mine)
    load_settings.save(other, LoadSettings(n_ctx=2048))
    assert load_settings.get(model_path) == mine
    assert load_settings.get(str(other)).n_ctx == 2048
    stored = json.loads((data_dir / "load_settings.json").read_text())
    assert len(stored["models"]) == 2
    load_settings.forget(other)
    assert load_settings.get(other) is None and load_settings.get(model_path) == mine


def test_bad_values_in_the_file_become_defaults(data_dir, model_path):
    data_dir.mkdir(parents=True, exist_ok=True)
    key = str(model_path.resolve())
    (data_dir / "load_settings.json").write_text(json.dumps({"version": 1, "models": {key: {
        "n_ctx": "huge", "n_threads": -3, "kv_type": "q2", "flash_attn": "yes", "device": "tpu",
        "n_gpu_layers": True}}}))
    assert load_settings.get(model_path) == LoadSettings()
    (data_dir / "load_settings.json").write_text("{ not json")
    assert load_settings.get(model_path) is None  # a damaged file: every model on its defaults


def test_engine_options_carry_only_what_each_engine_takes():
    s = LoadSettings(n_ctx=2048, n_threads=2, n_gpu_layers=0, device="cpu", kv_type="q4_0",
                     flash_attn=True)
    assert s.engine_options("llama") == {"n_ctx": 2048, "n_threads": 2, "n_gpu_layers": 0,
                                         "device": "cpu", "kv_type": "q4_0", "flash_attn": True}
    assert s.engine_options("onnx") == {"n_ctx": 2048, "n_threads": 2, "device": "cpu"}
    assert LoadSettings().engine_options("llama") == {}
    assert s.engine_options("remote") == {}


def test_defaults_fit_this_machine_with_a_reason_for_each(model_path):
    settings, reasons = load_settings.defaults_for(model_path, profile(16 * GIB, cores=4))
    # SmolLM2-135M was trained for 8,192 tokens, and that fits easily in 16 GB.
    assert settings.n_ctx == 8192 and settings.n_threads == 4
    assert settings.n_gpu_layers == 0 and settings.kv_type == "f16" and not settings.flash_attn
    assert set(reasons) == set(load_settings.FIELDS)
    assert "8,192" in reasons["n_ctx"] and "trained for" in reasons["n_ctx"]
    assert "physical core" in reasons["n_threads"]
    assert "cannot use a GPU" in reasons["n_gpu_layers"]
    # Little memory: a smaller context, the largest that still leaves room.
    small, why = load_settings.defaults_for(model_path, profile(600 * MIB))
    assert small.n_ctx < 8192
    assert "leaves room" in why["n_ctx"]


def test_defaults_stop_short_of_a_huge_training_length(model_path):
    shape = load_settings.ModelShape("llama", size=4 * GIB, trained_ctx=131072, n_layers=32,
                                     n_kv_heads=8, head_dim=128, parameters=8_000_000_000)
    settings, reasons = load_settings.defaults_for("big.gguf", profile(64 * GIB), shape)
    assert settings.n_ctx == load_settings.MAX_DEFAULT_N_CTX < 131072
    assert "131,072" in reasons["n_ctx"]


def test_the_engine_reports_the_settings_asked_for(model_path):
    from desktop.engines import open_engine

    s = LoadSettings(n_ctx=1024, n_threads=1, kv_type="q8_0", flash_attn=True)
    with open_engine(str(model_path), **s.engine_options("llama")) as engine:
        info = engine.info
        assert info.n_ctx == 1024 and info.extra["threads"] == 1
        assert info.extra["kv_type"] == "q8_0" and info.extra["kv_type_v"] == "q8_0"
        assert info.extra["flash_attn"] is True
        from desktop.engines.base import SamplingParams

        text = "".join(engine.stream([{"role": "user", "content": "Hi"}],
                                     SamplingParams(max_tokens=6, temperature=0)))
        assert text.strip()
    # Without flash attention llama.cpp cannot quantize V: only K is, and the engine says so.
    with open_engine(str(model_path), kv_type="q4_0") as engine:
        assert engine.info.extra["kv_type"] == "q4_0" and engine.info.extra["kv_type_v"] == "f16"


def test_saved_settings_apply_at_every_load_and_the_dialog_shows_them(make_window, qtbot, model_path):
    from desktop.ui.load_settings_dialog import LoadSettingsDialog

    load_settings.save(model_path, LoadSettings(n_ctx=1536, n_threads=1))
    window = make_window()  # loads the model through MainWindow.load_model
    info = window.model_info
    assert info.n_ctx == 1536 and info.extra["threads"] == 1
    assert "/ 1,536 tokens" in _wait_meter(qtbot, window)

    dialog = window.model_picker.open_load_settings("n_ctx")
    assert isinstance(dialog, LoadSettingsDialog)
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=10_000)  # read on the job thread
    assert dialog.n_ctx.value() == 1536 and dialog.n_threads.value() == 1
    assert dialog.n_ctx.limit == 8192  # what the model was trained for
    assert dialog.n_ctx.hasFocus() or dialog.focusWidget() is dialog.n_ctx
    assert "1,536 tokens of context" in dialog.header.text()
    assert all(dialog.reason_labels[k].text() for k in ("n_ctx", "n_threads", "kv_type", "flash_attn"))
    dialog.kv_type.setCurrentIndex(dialog.kv_type.findData("q8_0"))
    assert dialog.kv_note.isVisibleTo(dialog)  # V stays f16 without flash attention
    dialog.flash_attn.setChecked(True)
    assert not dialog.kv_note.isVisibleTo(dialog)
    dialog.n_ctx.setValue(3072)
    dialog.n_threads.setValue(2)
    with qtbot.waitSignal(window.host.model_loaded, timeout=60_000) as loaded:
        dialog.reload_button.click()
    info = loaded.args[0]
    assert info.n_ctx == 3072 and info.extra["threads"] == 2 and info.extra["kv_type"] == "q8_0"
    saved = load_settings.get(model_path)
    assert (saved.n_ctx, saved.n_threads, saved.n_gpu_layers, saved.kv_type, saved.flash_attn) == (
        3072, 2, 0, "q8_0", True)


def test_with_nothing_saved_the_dialog_shows_the_loaded_values(make_window, qtbot, model_path):
    window = make_window()
    dialog = window.model_picker.open_load_settings()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=10_000)
    defaults, _ = load_settings.defaults_for(model_path)
    # With nothing saved a load takes this machine's recommendation (not the engine's own 4,096),
    # and the dialog shows what is loaded.
    assert dialog.n_ctx.value() == window.model_info.n_ctx == defaults.n_ctx
    assert window.model_info.extra["threads"] == defaults.n_threads
    assert "Restore defaults gives the ones recommended" in dialog.header.text()
    dialog.restore_defaults()
    assert dialog.n_ctx.value() == defaults.n_ctx
    dialog.reject()
    assert load_settings.get(model_path) is None  # Cancel saves nothing


def _wait_meter(qtbot, window) -> str:
    qtbot.waitUntil(lambda: window.context_meter.state != "unknown", timeout=30_000)
    return window.context_meter.label.text()


@pytest.fixture(autouse=True)
def _no_remembered_model():
    from PySide6.QtCore import QSettings

    from desktop.ui import settings_keys

    QSettings().remove(settings_keys.LAST_MODEL)
    yield


def test_an_onnx_folder_gets_its_own_settings_applied_and_shown(make_window, qtbot, onnx_model):
    load_settings.save(onnx_model, LoadSettings(n_ctx=2048, n_threads=1, device="cpu"))
    window = make_window(load=False)
    with qtbot.waitSignal(window.host.model_loaded, timeout=120_000) as loaded:
        window.load_model(str(onnx_model))
    info = loaded.args[0]
    assert info.backend == "onnxruntime-genai"
    assert info.n_ctx == 2048 and info.extra["threads"] == 1 and info.device == "CPU"
    dialog = window.model_picker.open_load_settings()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=10_000)
    assert dialog.n_ctx.value() == 2048 and dialog.n_ctx.limit == 8192
    assert dialog.device.currentData() == "cpu"
    assert not dialog.kv_type.isEnabled() and not dialog.flash_attn.isEnabled()  # llama.cpp's only
    assert "ONNX" in dialog.reason_labels["kv_type"].text()
    assert dialog.settings().engine_options("onnx").keys() >= {"n_ctx", "n_threads", "device"}
    dialog.reject()

"""Load settings for one model: context length, CPU threads, GPU offload, KV cache, flash
attention and the prompt cache's memory, each with a line saying why its default is what it is.

What is saved here applies at every load of this model (MainWindow.load_model looks it up);
"Reload with these settings" saves and loads it again at once.

What the fields need (the model's header, this computer's hardware: up to the 2 s nvidia-smi
timeout) is read by ``read_facts``. Given a task runner (desktop/workers/tasks.py) the dialog
shows at once, says it is reading the model, and fills in its fields when the facts arrive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.models import load_settings
from desktop.models.load_settings import KV_TYPES, LoadSettings

MIN_CONTEXT = 256
# What the context field accepts while typing: any number, so that a value above the model's
# limit is shown as typed and answered with the limit, not cut to its first digits by the field.
TYPING_MAX = 2**31 - 1


class ContextSpinBox(QSpinBox):
    """Context length: typing may go past ``limit`` (the dialog then says the limit), the arrows
    and Page Up stop at it."""

    def __init__(self, limit: int, parent=None):
        super().__init__(parent)
        self.limit = limit

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        value = self.value() + steps * self.singleStep()
        top = max(self.limit, self.value()) if steps < 0 else self.limit
        self.setValue(max(self.minimum(), min(value, top)))

    def stepEnabled(self):  # noqa: N802 - Qt override
        enabled = super().stepEnabled()
        if self.value() >= self.limit:
            enabled &= ~QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return enabled


@dataclass(frozen=True)
class ModelFacts:
    """What the dialog's fields are made from (read off the GUI thread: read_facts)."""

    shape: object  # load_settings.shape_of
    profile: object  # desktop.hardware's HardwareProfile
    defaults: LoadSettings
    reasons: dict
    saved: LoadSettings | None


def read_facts(model_id: str) -> ModelFacts:
    """The model's shape (its header), this computer's hardware, the recommended settings and
    the saved ones. Slow (a file read, nvidia-smi): not on the GUI thread."""
    from desktop.hardware import detect

    shape = load_settings.shape_of(model_id)
    profile = detect()
    defaults, reasons = load_settings.defaults_for(model_id, profile, shape)
    return ModelFacts(shape, profile, defaults, reasons, load_settings.get(model_id))


def _reason_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
    return label


class LoadSettingsDialog(QDialog):
    """reload_requested(str): the settings were saved; load this model again with them.
    facts_ready(): the fields are there (at once without ``tasks``); read_failed(str): the
    model could not be read (the dialog is of no use then: its opener says why and closes it).

    Without ``tasks`` the facts are read here, on the caller's thread, and a model that cannot
    be read raises (UserError, OSError)."""

    reload_requested = Signal(str)
    facts_ready = Signal()
    read_failed = Signal(str)

    def __init__(self, model_id: str, info=None, parent=None, tasks=None):
        super().__init__(parent)
        self.model_id = str(model_id)
        self.info = info  # the ModelInfo of this model when it is the one loaded
        self.facts: ModelFacts | None = None
        self._focus: str | None = None  # a field asked for before the fields were there
        self.name = info.name if info is not None else os.path.basename(self.model_id.rstrip("/\\"))
        self.setWindowTitle(self.tr("Load settings — {name}").format(name=self.name))
        self.setMinimumWidth(560)

        header = QLabel()
        header.setWordWrap(True)
        header.setTextFormat(Qt.TextFormat.PlainText)
        header.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.header = header
        self.reading = QProgressBar()
        self.reading.setRange(0, 0)  # busy: reading a header and asking the GPU tells no fraction
        self.reading.setTextVisible(False)
        self.reading.setMaximumHeight(6)

        self.buttons = QDialogButtonBox()
        self.reload_button = self.buttons.addButton(self.tr("Reload with these settings"),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.reload_button.setDefault(True)
        self.defaults_button = QPushButton(self.tr("Restore defaults"))
        self.buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.defaults_button.clicked.connect(self.restore_defaults)

        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.reading)
        layout.addStretch(1)  # a taller window grows below the fields, not around the header
        layout.addWidget(self.buttons)
        if tasks is None:
            self._build(read_facts(self.model_id))
            return
        header.setText(self.tr("Reading the model…"))
        self.reload_button.setEnabled(False)
        self.defaults_button.setEnabled(False)
        tasks.run(read_facts, self.model_id, done=self._build, failed=self._read_failed, context=self)

    def _read_failed(self, message: str) -> None:
        self.reading.hide()
        self.header.setText(message)
        self.read_failed.emit(message)

    def _build(self, facts: ModelFacts) -> None:
        """The fields, from what was read about the model and this computer."""
        self.facts = facts
        self.shape, self.profile = facts.shape, facts.profile
        self.defaults, self.reasons = facts.defaults, facts.reasons
        saved = facts.saved
        self.saved = saved is not None
        current = saved if saved is not None else self._loaded_or_defaults()
        llama = self.shape.backend == "llama"
        self.reading.hide()
        self.header.setText(self._header_text(self.name))
        self.defaults_button.setEnabled(True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.reason_labels: dict[str, QLabel] = {}

        def row(key: str, label: str, field: QWidget, note: str = "") -> None:
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 4)
            column.setSpacing(2)
            column.addWidget(field)
            reason = _reason_label()
            why = self.reasons.get(key, "")
            why = self.tr("Recommended: {why}").format(why=why) if why else ""
            reason.setText(why + (("\n" + note) if note else ""))
            self.reason_labels[key] = reason
            column.addWidget(reason)
            form.addRow(label, box)

        # Context length: up to what the model was trained for.
        trained = self.shape.trained_ctx
        self.trained = trained or 131072
        self.n_ctx = ContextSpinBox(self.trained)
        self.n_ctx.setRange(min(MIN_CONTEXT, self.trained), TYPING_MAX)
        self.n_ctx.setSingleStep(1024)
        self.n_ctx.setGroupSeparatorShown(True)
        self.n_ctx.setSuffix(self.tr(" tokens"))
        self.n_ctx.setValue(min(current.n_ctx or 4096, self.trained))
        # The reason names the training length; without one, say why there is no real cap.
        cap = "" if trained else self.tr("This model does not say what it was trained for.")
        row("n_ctx", self.tr("Context length"), self.n_ctx, cap)
        # Said as soon as more is typed than the model can use (the field keeps what was typed).
        self.n_ctx_note = _reason_label()
        self.n_ctx_note.setObjectName("contextLimit")
        self.n_ctx_note.setStyleSheet("color: #b7791f; font-size: 11px;")
        self.reason_labels["n_ctx"].parentWidget().layout().addWidget(self.n_ctx_note)

        self.n_threads = QSpinBox()
        self.n_threads.setRange(1, max(1, self.profile.logical_cores or os.cpu_count() or 1))
        self.n_threads.setValue(current.n_threads or self.defaults.n_threads or 1)
        row("n_threads", self.tr("CPU threads"), self.n_threads)

        # GPU offload: llama.cpp layers; ONNX Runtime a device.
        self.n_gpu_layers = QSpinBox()
        self.device = QComboBox()
        if llama:
            layers = self.shape.n_layers or 999
            self.n_gpu_layers.setRange(0, layers)
            self.n_gpu_layers.setSuffix(self.tr(" of {count} layers").format(count=layers))
            value = current.n_gpu_layers
            self.n_gpu_layers.setValue(layers if value is None or value < 0 else min(value, layers))
            can_offload = bool(self.profile.usable_gpus("llama"))
            self.n_gpu_layers.setEnabled(can_offload)
            row("n_gpu_layers", self.tr("GPU offload"), self.n_gpu_layers)
        else:
            for device, label in (("auto", self.tr("Automatic")), ("cpu", self.tr("CPU")),
                                  ("cuda", self.tr("CUDA (NVIDIA)")), ("dml", self.tr("DirectML"))):
                self.device.addItem(label, device)
            self.device.setCurrentIndex(max(self.device.findData(current.device), 0))
            row("device", self.tr("Device"), self.device)

        self.kv_type = QComboBox()
        for kv in KV_TYPES:
            labels = {"f16": self.tr("f16 (full precision)"), "q8_0": self.tr("q8_0 (half the memory)"),
                      "q4_0": self.tr("q4_0 (a quarter)")}
            self.kv_type.addItem(labels[kv], kv)
        self.kv_type.setCurrentIndex(max(self.kv_type.findData(current.kv_type), 0))
        self.kv_type.setEnabled(llama)
        row("kv_type", self.tr("KV-cache type"), self.kv_type)

        self.flash_attn = QCheckBox(self.tr("Use flash attention"))
        self.flash_attn.setChecked(current.flash_attn)
        self.flash_attn.setEnabled(llama)
        row("flash_attn", self.tr("Flash attention"), self.flash_attn)
        self.kv_note = _reason_label()
        self.kv_note.setStyleSheet("color: #b7791f; font-size: 11px;")
        form.addRow("", self.kv_note)

        self.cache_ram = QSpinBox()
        ram_mb = max(64, int((self.profile.ram_total or 0) / 2**20))
        self.cache_ram.setRange(0, ram_mb)
        self.cache_ram.setSingleStep(256)
        self.cache_ram.setGroupSeparatorShown(True)
        self.cache_ram.setSuffix(self.tr(" MB"))
        self.cache_ram.setSpecialValueText(self.tr("Off"))
        self.cache_ram.setValue(current.cache_ram_mb or self.defaults.cache_ram_mb or 0)
        self.cache_ram.setEnabled(self.defaults.cache_ram_mb is not None)
        row("cache_ram_mb", self.tr("Prompt cache memory"), self.cache_ram)

        self.kv_type.currentIndexChanged.connect(self._update_notes)
        self.flash_attn.toggled.connect(self._update_notes)
        self.n_ctx.valueChanged.connect(self._update_notes)

        fields = QWidget()
        form.setContentsMargins(0, 0, 0, 0)
        fields.setLayout(form)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.reading) + 1, fields)
        if self.isVisible():
            fields.show()  # now, not when the layout gets to it: a field given focus must be visible
        self._update_notes()
        if self._focus:
            self.focus_field(self._focus)
        self.facts_ready.emit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # The wrapped texts' height at the width the dialog really opens with (its minimum),
        # not at Qt's narrower guess: that height, spread over the rows, was an empty band.
        hint = super().sizeHint()
        width = max(hint.width(), self.minimumWidth())
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            return QSize(width, layout.totalHeightForWidth(width))
        return QSize(width, hint.height())

    def _loaded_or_defaults(self) -> LoadSettings:
        """With nothing saved: what the model is loaded with now (so "Reload" alone changes
        nothing), else the recommended values."""
        info, d = self.info, self.defaults
        if info is None:
            return d
        extra = info.extra or {}
        layers = extra.get("n_gpu_layers")
        return replace(
            d, n_ctx=info.n_ctx or d.n_ctx, n_threads=extra.get("threads") or d.n_threads,
            n_gpu_layers=layers if isinstance(layers, int) else d.n_gpu_layers,
            kv_type=extra.get("kv_type") if extra.get("kv_type") in KV_TYPES else d.kv_type,
            flash_attn=bool(extra.get("flash_attn", d.flash_attn)))

    def _header_text(self, name: str) -> str:
        parts = []
        info = self.info
        if info is not None:
            extra = info.extra or {}
            now = [self.tr("{tokens} tokens of context").format(tokens=f"{info.n_ctx or 0:,}")]
            if extra.get("threads"):
                now.append(self.tr("{threads} threads").format(threads=extra["threads"]))
            if extra.get("kv_type"):
                now.append(self.tr("{kv} KV cache").format(kv=extra["kv_type"]))
            now.append(info.device)
            parts.append(self.tr("{name} is loaded with {settings}.").format(
                name=name, settings=", ".join(now)))
        parts.append(self.tr("These settings are kept for this model and used every time it loads.")
                     if self.saved else
                     self.tr("Nothing is saved for this model yet: these are the values it is "
                             "loaded with; Restore defaults gives the ones recommended for this "
                             "computer.") if self.info is not None else
                     self.tr("Nothing is saved for this model yet: these are the values recommended "
                             "for this computer."))
        return " ".join(parts)

    def context_over_limit(self) -> bool:
        return self.n_ctx.value() > self.trained

    def _update_notes(self) -> None:
        over = self.context_over_limit()
        if over:
            limit = f"{self.trained:,}"
            self.n_ctx_note.setText(
                (self.tr("This model was trained for at most {tokens} tokens: it cannot use more. For "
                         "longer texts, choose a model trained for more (Model ▸ Get more models…).")
                 if self.shape.trained_ctx else
                 self.tr("At most {tokens} tokens for a model that does not say what it was trained "
                         "for.")).format(tokens=limit))
        self.n_ctx_note.setVisible(over)
        # What is typed is never cut down behind the user's back: lower it to load.
        self.reload_button.setEnabled(not over)
        self.reload_button.setToolTip(
            self.tr("Lower the context length to at most {tokens} tokens first.").format(
                tokens=f"{self.trained:,}") if over else "")
        quantized = self.kv_type.currentData() != "f16"
        if quantized and not self.flash_attn.isChecked():
            self.kv_note.setText(self.tr(
                "llama.cpp quantizes the V cache only with flash attention: without it only K is "
                "quantized (V stays f16)."))
            self.kv_note.show()
        else:
            self.kv_note.hide()
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show a note that just appeared whole (a window's minimum size ignores how
        tall wrapped text gets, so the rows would be squeezed over each other instead)."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def focus_field(self, key: str) -> None:
        if self.facts is None:
            self._focus = key  # given focus once the fields are there
            return
        self._focus = None
        widget = {"n_ctx": self.n_ctx, "n_threads": self.n_threads, "n_gpu_layers": self.n_gpu_layers,
                  "device": self.device, "kv_type": self.kv_type, "flash_attn": self.flash_attn,
                  "cache_ram_mb": self.cache_ram}.get(key)
        if widget is not None:
            widget.setFocus()
            if isinstance(widget, QSpinBox):
                widget.selectAll()

    def settings(self) -> LoadSettings:
        llama = self.shape.backend == "llama"
        layers = None
        if llama and self.n_gpu_layers.isEnabled():
            layers = self.n_gpu_layers.value()
            if layers >= self.n_gpu_layers.maximum():
                layers = -1  # every layer, however many the file has
        elif llama:
            layers = self.defaults.n_gpu_layers
        cache = self.cache_ram.value() if self.cache_ram.isEnabled() else None
        return LoadSettings(
            n_ctx=min(self.n_ctx.value(), self.trained),
            n_threads=self.n_threads.value(),
            n_gpu_layers=layers,
            device="auto" if llama else (self.device.currentData() or "auto"),
            kv_type=self.kv_type.currentData() if llama else "f16",
            flash_attn=self.flash_attn.isChecked() if llama else False,
            cache_ram_mb=cache,
        )

    def restore_defaults(self) -> None:
        if self.facts is None:
            return
        d = self.defaults
        self.n_ctx.setValue(min(d.n_ctx or 4096, self.trained))
        self.n_threads.setValue(d.n_threads or 1)
        if self.n_gpu_layers.maximum():
            layers = d.n_gpu_layers
            top = self.n_gpu_layers.maximum()
            self.n_gpu_layers.setValue(top if layers is None or layers < 0 else layers)
        self.device.setCurrentIndex(max(self.device.findData(d.device), 0))
        self.kv_type.setCurrentIndex(max(self.kv_type.findData(d.kv_type), 0))
        self.flash_attn.setChecked(d.flash_attn)
        self.cache_ram.setValue(d.cache_ram_mb or 0)

    def apply(self) -> None:
        from desktop.errors import UserError

        if self.facts is None:  # Enter while the model is read: nothing to save yet
            return
        if self.context_over_limit():
            self.n_ctx.setFocus()
            return
        try:
            load_settings.save(self.model_id, self.settings())
        except (UserError, OSError) as exc:
            self.header.setText(str(exc))
            return
        self.accept()
        self.reload_requested.emit(self.model_id)

"""The open chat's own settings: system prompt (with presets), sampling, and what to leave out
when the chat outgrows the model's context.

Only what the user changes is stored with the chat ("sampling" holds overrides); everything else
follows the loaded model's recommended values, so a chat moved to another model gets that
model's defaults instead of the old model's.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engines.base import SAMPLING_RANGES, SamplingParams
from desktop.storage import ConversationStore
from desktop.storage.store import StoreError

# Built-in presets: (name, system prompt). Translated when shown; a saved preset is the user's.
BUILTIN_PRESETS = (
    (QT_TRANSLATE_NOOP("ChatSettings", "No system prompt"), ""),
    (QT_TRANSLATE_NOOP("ChatSettings", "Helpful assistant"),
     QT_TRANSLATE_NOOP("ChatSettings", "You are a helpful, accurate assistant. Answer clearly, and "
                                       "say so when you are not sure.")),
    (QT_TRANSLATE_NOOP("ChatSettings", "Concise"),
     QT_TRANSLATE_NOOP("ChatSettings", "Answer in as few words as possible, without preamble.")),
    (QT_TRANSLATE_NOOP("ChatSettings", "Coding helper"),
     QT_TRANSLATE_NOOP("ChatSettings", "You are an expert programmer. Give working code in fenced "
                                       "blocks that name the language, then explain briefly.")),
    (QT_TRANSLATE_NOOP("ChatSettings", "Translator (English ↔ Chinese)"),
     QT_TRANSLATE_NOOP("ChatSettings", "Translate the user's text between English and Chinese. "
                                       "Reply with the translation only.")),
)

POLICY_LABELS = (
    ("rolling", QT_TRANSLATE_NOOP("ChatSettings", "Leave out the oldest messages")),
    ("keep_first", QT_TRANSLATE_NOOP("ChatSettings", "Keep the first turn, leave out the middle")),
    ("stop", QT_TRANSLATE_NOOP("ChatSettings", "Stop and ask me")),
)

# field: (label, step, decimals); decimals 0 means a whole number.
_SHOWN = {
    "temperature": (QT_TRANSLATE_NOOP("ChatSettings", "Temperature"), 0.05, 2),
    "top_p": (QT_TRANSLATE_NOOP("ChatSettings", "Top-p"), 0.01, 2),
    "top_k": (QT_TRANSLATE_NOOP("ChatSettings", "Top-k"), 1, 0),
    "min_p": (QT_TRANSLATE_NOOP("ChatSettings", "Min-p"), 0.01, 2),
    "repeat_penalty": (QT_TRANSLATE_NOOP("ChatSettings", "Repeat penalty"), 0.01, 2),
    "max_tokens": (QT_TRANSLATE_NOOP("ChatSettings", "Max tokens"), 64, 0),
    "seed": (QT_TRANSLATE_NOOP("ChatSettings", "Seed"), 1, 0),
}
# field: (label, minimum, maximum, step, decimals), the range from the core's SAMPLING_RANGES.
FIELDS = {key: (label, SAMPLING_RANGES[key][1], SAMPLING_RANGES[key][2], step, decimals)
          for key, (label, step, decimals) in _SHOWN.items()}


def _t(text: str) -> str:
    return QCoreApplication.translate("ChatSettings", text)


class ChatSettings(QScrollArea):
    """Signals: settings_edited(dict): the chat's new settings, to store with it."""

    settings_edited = Signal(dict)

    def __init__(self, store: ConversationStore, parent=None):
        super().__init__(parent)
        self.store = store
        self.setWidgetResizable(True)
        self.setMinimumWidth(250)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._settings: dict = {}
        self._model_defaults: dict = {}
        self._loading = False

        self.preset_combo = QComboBox()
        self.preset_combo.setAccessibleName(self.tr("Preset"))
        self.save_preset_button = QToolButton()
        self.delete_preset_button = QToolButton()
        # Icons beside the preset, their words in the tooltip: the drawer stays narrow enough
        # for an 800 px window without clipping.
        for button, text, icon_name in ((self.save_preset_button, self.tr("Save as preset…"),
                                         "mdi6.content-save-outline"),
                                        (self.delete_preset_button, self.tr("Delete preset"),
                                         "mdi6.delete-outline")):
            button.setText(text)
            button.setToolTip(text)
            button.setAccessibleName(text)
            button.setAutoRaise(True)
            try:
                from desktop.ui.icons import set_icon

                set_icon(button, icon_name)
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            except Exception:  # noqa: BLE001 - without the icon set the words show instead
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.system_edit = QPlainTextEdit()
        self.system_edit.setPlaceholderText(self.tr("Instructions the model reads before the chat"))
        self.system_edit.setAccessibleName(self.tr("System prompt"))
        self.system_edit.setTabChangesFocus(True)
        # For a model whose template has no system role: its prompt rides in the first message.
        self.system_note = QLabel(self.tr(
            "This model has no system role; your system prompt is sent with your first message."))
        self.system_note.setWordWrap(True)
        self.system_note.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        self.system_note.hide()
        self._system_role = True
        self.policy_combo = QComboBox()
        for combo in (self.preset_combo, self.policy_combo):
            # As narrow as the drawer is: a long choice is elided, not a reason to clip.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        for key, label in POLICY_LABELS:
            self.policy_combo.addItem(_t(label), key)
        # Shown only for a model whose template reads enable_thinking (Qwen 3, SmolLM3...).
        self.think_check = QCheckBox(self.tr("Think before answering"))
        self.think_check.setToolTip(self.tr(
            "The model reasons first, then answers: slower, often better on hard questions"))
        self.think_check.setChecked(True)
        self.think_check.hide()
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for name, (label, low, high, step, decimals) in FIELDS.items():
            spin = QDoubleSpinBox() if decimals else QSpinBox()
            if decimals:
                spin.setDecimals(decimals)
            spin.setRange(low, high)
            spin.setSingleStep(step)
            spin.setAccessibleName(_t(label))
            if name == "seed":
                spin.setSpecialValueText(self.tr("Random"))
            if name == "top_k":
                spin.setSpecialValueText(self.tr("Off"))
            spin.valueChanged.connect(lambda _v, n=name: self._on_spin(n))
            self.spins[name] = spin
            form.addRow(_t(label), spin)
        self.reset_button = QPushButton(self.tr("Reset to the model's defaults"))
        self.defaults_label = QLabel()
        self.defaults_label.setWordWrap(True)
        # The defaults come from the model's own files, and errors from its template.
        self.defaults_label.setTextFormat(Qt.TextFormat.PlainText)
        self.defaults_label.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")

        body = QWidget()
        layout = QVBoxLayout(body)
        title = QLabel("<b>" + self.tr("This chat's settings") + "</b>")
        layout.addWidget(title)
        layout.addWidget(QLabel(self.tr("Preset")))
        presets_row = QHBoxLayout()
        presets_row.addWidget(self.preset_combo, 1)
        presets_row.addWidget(self.save_preset_button)
        presets_row.addWidget(self.delete_preset_button)
        layout.addLayout(presets_row)
        layout.addWidget(QLabel(self.tr("System prompt")))
        layout.addWidget(self.system_edit, 1)
        layout.addWidget(self.system_note)
        layout.addWidget(QLabel(self.tr("When the chat outgrows the context")))
        layout.addWidget(self.policy_combo)
        layout.addWidget(self.think_check)
        layout.addWidget(QLabel("<b>" + self.tr("Sampling") + "</b>"))
        layout.addLayout(form)
        layout.addWidget(self.reset_button)
        layout.addWidget(self.defaults_label)
        layout.addStretch(0)
        for label in body.findChildren(QLabel):
            label.setWordWrap(True)  # headings and notes wrap in a narrow drawer
        self.setWidget(body)

        self.system_edit.textChanged.connect(self._on_system_edited)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.policy_combo.currentIndexChanged.connect(self._on_policy)
        self.think_check.toggled.connect(self._on_think)
        self.reset_button.clicked.connect(self.reset_sampling)
        self.save_preset_button.clicked.connect(self._save_preset)
        self.delete_preset_button.clicked.connect(self._delete_preset)
        self._fill_presets()

    # -- showing ---------------------------------------------------------------------------
    def load(self, settings: dict, model_defaults: dict | None = None) -> None:
        """Show a chat's settings (and the loaded model's defaults under them)."""
        self._settings = dict(settings)
        if model_defaults is not None:
            self._model_defaults = dict(model_defaults)
        self._loading = True
        try:
            if self.system_edit.toPlainText() != settings.get("system_prompt", ""):
                self.system_edit.setPlainText(settings.get("system_prompt", ""))
            at = self.policy_combo.findData(settings.get("context_policy", "rolling"))
            self.policy_combo.setCurrentIndex(max(at, 0))
            thinking = settings.get("thinking")
            self.think_check.setChecked(thinking if isinstance(thinking, bool) else True)
            self._show_sampling()
            self._select_preset(settings.get("preset"))
        finally:
            self._loading = False
        self._show_system_note()

    def set_thinking_switch(self, available: bool) -> None:
        """Offer the Think switch only when the loaded model's template can turn thinking off."""
        self.think_check.setVisible(available)

    def set_system_role(self, supported: bool) -> None:
        """Whether the loaded model's template takes a system message (ModelInfo.extra)."""
        self._system_role = supported
        self._show_system_note()

    def _show_system_note(self) -> None:
        self.system_note.setVisible(not self._system_role and bool(self.system_edit.toPlainText().strip()))

    def set_model_defaults(self, defaults: dict) -> None:
        self._model_defaults = dict(defaults)
        self._loading = True
        try:
            self._show_sampling()
        finally:
            self._loading = False

    def _defaults(self) -> dict:
        values = {k: getattr(SamplingParams(), k) for k in FIELDS}
        values.update({k: v for k, v in self._model_defaults.items() if k in values})
        return values

    def _show_sampling(self) -> None:
        defaults = self._defaults()
        overrides = self._settings.get("sampling") or {}
        for name, spin in self.spins.items():
            value = overrides.get(name, defaults[name])
            spin.setValue(-1 if value is None else value)
            changed = name in overrides
            font = spin.font()
            font.setBold(changed)  # what this chat changed stands out from the defaults
            spin.setFont(font)
        if self._model_defaults:
            listed = ", ".join(f"{_t(FIELDS[k][0])} {v}" for k, v in self._model_defaults.items()
                               if k in FIELDS)
            self.defaults_label.setText(self.tr("The model recommends: {values}.").format(values=listed))
        else:
            self.defaults_label.setText(self.tr("The model recommends no sampling settings; "
                                           "EdgeChat's defaults apply."))

    def _fill_presets(self) -> None:
        self.preset_combo.clear()
        for name, prompt in BUILTIN_PRESETS:
            self.preset_combo.addItem(_t(name), ("builtin", name, _t(prompt) if prompt else "", {}))
        for preset in self.store.presets():
            self.preset_combo.addItem(preset.name, ("saved", preset.name, preset.system_prompt,
                                                    preset.settings))
        self.preset_combo.insertSeparator(len(BUILTIN_PRESETS))

    def _select_preset(self, name: str | None) -> None:
        for i in range(self.preset_combo.count()):
            data = self.preset_combo.itemData(i)
            if data and data[1] == name:
                self.preset_combo.setCurrentIndex(i)
                break
        else:
            # A prompt of the user's own, from no preset: show no preset rather than a wrong one.
            own = bool(name) or bool(self._settings.get("system_prompt"))
            self.preset_combo.setCurrentIndex(-1 if own else 0)
        data = self.preset_combo.currentData()
        self.delete_preset_button.setEnabled(bool(data) and data[0] == "saved")

    # -- editing ---------------------------------------------------------------------------
    def _on_system_edited(self) -> None:
        if self._loading:
            return
        self._settings["system_prompt"] = self.system_edit.toPlainText()
        self._settings.pop("preset", None)
        self._show_system_note()
        # Saved at every edit (one small SQLite update): a delayed save could land on the next
        # chat after a switch.
        self._emit()

    def _on_spin(self, name: str) -> None:
        if self._loading:
            return
        spin = self.spins[name]
        value = spin.value()
        if name == "seed" and value < 0:
            value = None
        sampling = dict(self._settings.get("sampling") or {})
        sampling[name] = round(value, 4) if isinstance(value, float) else value
        self._settings["sampling"] = sampling
        font = spin.font()
        font.setBold(True)
        spin.setFont(font)
        self._emit()

    def _on_policy(self) -> None:
        if self._loading:
            return
        self._settings["context_policy"] = self.policy_combo.currentData()
        self._emit()

    def _on_think(self, checked: bool) -> None:
        if self._loading:
            return
        self._settings["thinking"] = checked
        self._emit()

    def _on_preset_chosen(self, index: int) -> None:
        data = self.preset_combo.itemData(index)
        if not data:
            return
        _kind, name, prompt, sampling = data
        self._settings["system_prompt"] = prompt
        self._settings["preset"] = name
        if sampling:
            self._settings["sampling"] = dict(sampling)
        self.load(self._settings)
        self._emit()

    def reset_sampling(self) -> None:
        self._settings.pop("sampling", None)
        self.load(self._settings)
        self._emit()

    def _save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save preset"), self.tr("Name:"))
        if ok and name.strip():
            self.save_preset(name)

    def save_preset(self, name: str) -> None:
        try:
            preset = self.store.save_preset(name, self.system_edit.toPlainText(),
                                            self._settings.get("sampling") or {})
        except StoreError as exc:
            self.defaults_label.setText(str(exc))
            return
        self._settings["preset"] = preset.name
        self._fill_presets()
        self._select_preset(preset.name)
        self._emit()

    def _delete_preset(self) -> None:
        data = self.preset_combo.currentData()
        if data and data[0] == "saved":
            self.store.delete_preset(data[1])
            self._settings.pop("preset", None)
            self._fill_presets()
            self._select_preset(None)
            self._emit()

    def _emit(self) -> None:
        self.settings_edited.emit(dict(self._settings))

    def focus(self) -> None:
        self.system_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

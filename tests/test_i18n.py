"""Translations: the Simplified Chinese .ts is complete and current, and the app shows it."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt

from desktop.ui import i18n
from desktop.ui.i18n import available_languages, choose_language, install_translator

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "resources" / "i18n" / "edgechat_zh_CN.ts"
QM = ROOT / "resources" / "i18n" / "edgechat_zh_CN.qm"
# {name} / {count:,} for str.format, %1 / %n for Qt's own arguments.
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%n|%L?\d+")


def messages(path: Path) -> list[dict]:
    """Every message of a .ts: its context, source, comment and translation element."""
    out = []
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            out.append({"context": name, "source": message.findtext("source"),
                        "comment": message.findtext("comment"),
                        "translation": message.find("translation")})
    return out


def unfinished(path: Path) -> list[str]:
    return [f"{m['context']}: {m['source']!r}" for m in messages(path)
            if m["translation"] is None or m["translation"].get("type") in ("unfinished", "vanished",
                                                                           "obsolete")
            or not (m["translation"].text or "").strip()]


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture
def translated(qapp):
    """The app in Simplified Chinese for one test; English and the old default locale after."""
    locale = QLocale()
    try:
        yield install_translator(qapp, "zh_CN")
    finally:
        install_translator(qapp, "en")
        QLocale.setDefault(locale)


def test_every_message_is_translated_with_the_same_placeholders():
    found = messages(TS)
    assert len(found) > 50
    assert unfinished(TS) == []
    for m in found:
        text = m["translation"].text
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(m["source"])), \
            f"{m['context']}: {m['source']!r} -> {text!r}"
        assert m["source"].endswith("…") == text.endswith("…"), f"{m['source']!r} -> {text!r}"


def test_the_ts_is_up_to_date_with_the_code(tmp_path):
    copy = tmp_path / TS.name
    shutil.copyfile(TS, copy)
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "desktop").rglob("*.py")
                     if "__pycache__" not in p.parts)
    # The same options as scripts/update-translations.
    result = subprocess.run([tool("pyside6-lupdate"), "-no-obsolete", "-locations", "none",
                             "-source-language", "en", "-target-language", "zh_CN", *sources,
                             "-ts", str(copy)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert unfinished(copy) == [], "new strings in the code: run scripts/update-translations " \
                                   "and translate them"

    def keys(path):
        return {(m["context"], m["source"], m["comment"]) for m in messages(path)}

    assert keys(copy) == keys(TS), "strings left the code: run scripts/update-translations"


def test_the_compiled_translation_is_not_older_than_its_source():
    # lrelease writes nothing for an unchanged .ts, so compare what the .qm says, not its date.
    from PySide6.QtCore import QTranslator

    translator = QTranslator()
    assert translator.load(str(QM))
    for m in messages(TS):
        assert translator.translate(m["context"], m["source"], m["comment"]) == m["translation"].text, \
            f"{QM.name} is stale: run scripts/update-translations"


def test_chinese_is_shown_once_installed_and_english_after(qapp, qtbot, tmp_path):
    from desktop.models.library import Library
    from desktop.storage.store import ConversationStore
    from desktop.ui.library_window import LibraryWindow
    from desktop.ui.markdown_view import MarkdownView
    from desktop.ui.search_panel import SearchPanel

    store = ConversationStore(tmp_path / "c.sqlite3")
    chat = store.create_conversation("Trip")
    for n in range(2):
        store.add_message(chat.id, "assistant", f"The capital is Paris ({n})")
    locale = QLocale()
    try:
        installed = install_translator(qapp, "zh_CN")
        assert len(installed) == 2  # EdgeChat's own and Qt's (standard buttons)
        assert QCoreApplication.translate("LibraryWindow", "Model library") == "模型库"
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
        assert QLocale().language() == QLocale.Language.Chinese
        assert install_translator(qapp, "zh_CN") != installed  # the old ones were replaced

        window = LibraryWindow(Library(tmp_path / "models"))
        qtbot.addWidget(window)
        try:
            assert window.windowTitle() == "模型库"
            assert [window.tabs.tabText(i) for i in range(2)] == ["已安装", "模型目录"]
            assert window.catalog_model.headerData(0, Qt.Orientation.Horizontal) == "模型"
            assert window.fit_filter.itemText(1) == "适合本机"
        finally:
            window.shutdown()

        panel = SearchPanel(store)
        qtbot.addWidget(panel)
        assert panel.field.placeholderText() == "搜索所有聊天（Ctrl+F）"
        panel.field.setText("capital")  # searched after a pause in typing
        qtbot.waitUntil(lambda w=panel: w.summary.text() == "2 条结果")
        assert "助手" in panel.model.index(0, 0).data()

        view = MarkdownView()
        qtbot.addWidget(view)
        view.set_markdown("```python\nprint(1)\n```\n")
        assert view.toPlainText().startswith("python")  # the code box's header: its language
        qtbot.waitUntil(lambda v=view: v.copy_button(0) is not None)
        assert view.copy_button(0).text() == "复制"
        assert view.copy_button(0).toolTip() == QCoreApplication.translate("MarkdownView", "Copy the code") \
            != "Copy the code"

        assert install_translator(qapp, "en") == []
        assert QCoreApplication.translate("LibraryWindow", "Model library") == "Model library"
        english = SearchPanel(store)
        qtbot.addWidget(english)
        assert english.field.placeholderText() == "Search all chats (Ctrl+F)"
        english.field.setText("capital")  # searched after a pause in typing
        qtbot.waitUntil(lambda w=english: w.summary.text() == "2 matches")
    finally:
        install_translator(qapp, "en")
        QLocale.setDefault(locale)
        store.close()


@pytest.mark.parametrize(("system", "expected"), [
    ("zh_CN", "zh_CN"), ("zh_SG", "zh_CN"), ("zh_Hans", "zh_CN"), ("zh_Hans_HK", "zh_CN"),
    ("zh_TW", "en"), ("zh_HK", "en"), ("zh_Hant", "en"),
    ("en_US", "en"), ("en_GB", "en"), ("de_DE", "en"), ("ja_JP", "en"), ("C", "en"),
])
def test_system_locale_picks_the_language(monkeypatch, system, expected):
    monkeypatch.setattr(i18n.QLocale, "system", staticmethod(lambda: QLocale(system)))
    assert choose_language(None) == expected
    assert choose_language("system") == expected
    assert choose_language(system) == expected  # a locale name as the setting: the same rule


def test_an_explicit_setting_wins(monkeypatch):
    monkeypatch.setattr(i18n.QLocale, "system", staticmethod(lambda: QLocale("zh_CN")))
    assert choose_language("en") == "en"
    monkeypatch.setattr(i18n.QLocale, "system", staticmethod(lambda: QLocale("de_DE")))
    assert choose_language("zh_CN") == "zh_CN"
    assert set(available_languages()) == {"en", "zh_CN"}
    assert available_languages()["zh_CN"] == "简体中文"


def test_english_installs_nothing(qapp, translated):
    assert len(translated) == 2
    assert install_translator(qapp, "en") == []
    assert QCoreApplication.translate("MarkdownView", "Copy") == "Copy"


def test_the_main_window_is_shown_in_chinese(qapp, qtbot, tmp_path, translated):
    from desktop.storage import ConversationStore
    from desktop.ui.main_window import MainWindow
    from desktop.workers.generation import EngineHost

    zh = {(m["context"], m["source"]): m["translation"].text for m in messages(TS)}
    store = ConversationStore(tmp_path / "c.sqlite3")
    chat = store.create_conversation("Trip")
    store.add_message(chat.id, "user", "What is the capital of France?")
    store.add_message(chat.id, "assistant", "Paris.")
    window = MainWindow(store, EngineHost())
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.menuBar().actions()[0].text() == "文件(&F)"
        assert window.send_button.text() == zh["MainWindow", "Send"] == "发送"
        assert window.chat_settings_button.text() == zh["MainWindow", "Chat settings"]
        assert window.prompt.placeholderText() == zh["PromptEdit", "Message the model (Enter to send, "
                                                                  "Shift+Enter for a new line)"]
        assert window.context_meter.label.text() == zh["ContextMeter", "Context: no model loaded"]

        window.refresh_conversations()
        window.session.open_conversation(chat.id)
        user, reply = window.chat_view.messages()
        # Icon buttons: their words are their tooltips.
        assert user.redo_button.toolTip() == zh["MessageWidget", "Edit and send again as a new version"]
        assert reply.redo_button.toolTip() == zh["MessageWidget", "Write a new version of this reply"]
        assert reply.copy_button.toolTip() == zh["MessageWidget", "Copy this message as Markdown"]
        assert reply.redo_button.toolTip() == "为此回复生成新版本"
    finally:
        window.close()
        store.close()


def test_core_messages_are_translated_at_run_time(tmp_path, qapp, translated):
    """The Qt-free core (fit verdicts, engine errors) speaks the installed language, and English
    again once it is restored."""
    from desktop.engines.base import ContextOverflowError
    from desktop.engines.context import fit_messages
    from desktop.engines.gguf import GGUFError, read_gguf
    from desktop.models.fit import LABELS, Fit, estimate
    from desktop.units import GIB

    zh = {(m["context"], m["source"]): m["translation"].text for m in messages(TS)}
    overflow = ("The message is too long for this model's context window. Shorten it, or raise the "
                "context length ({setting}).")
    setting = "Model ▸ Load settings… ▸ Context length"
    not_gguf = ("{name} is not a GGUF model file. EdgeChat's llama.cpp engine opens .gguf files; "
                "ONNX models are opened by their folder.")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("These are notes, not a model: nothing here is GGUF.\n")
    guessed = estimate(2 * GIB)  # no shape given: the KV cache is estimated

    def words(m):
        return sum(len(x["content"].split()) for x in m)

    def core_messages():
        with pytest.raises(ContextOverflowError) as overflowed:
            fit_messages([{"role": "user", "content": "word " * 500}], words, 100)
        with pytest.raises(GGUFError) as not_a_model:
            read_gguf(text_file)
        return {
            "labels": {verdict: Fit(verdict, guessed, 8 * GIB).label for verdict in LABELS},
            "explain": Fit("cpu", guessed, 8 * GIB).explain(),
            "overflow": str(overflowed.value),
            "gguf": str(not_a_model.value),
        }

    chinese = core_messages()
    assert chinese["labels"] == {"gpu": "可在 GPU 上运行", "cpu": "可在 CPU 上运行", "tight": "内存紧张",
                                 "wont_fit": "无法运行"}
    assert chinese["labels"] == {verdict: zh["Core", source] for verdict, source in LABELS.items()}
    assert chinese["explain"].startswith("约需 ")
    assert zh["Core", " (estimated)"] in chinese["explain"]
    assert chinese["overflow"] == zh["Core", overflow].format(setting=zh["Core", setting])
    assert chinese["gguf"] == zh["Core", not_gguf].format(name="notes.txt")
    assert "notes.txt 不是 GGUF 模型文件" in chinese["gguf"]

    install_translator(qapp, "en")
    english = core_messages()
    assert english["labels"] == LABELS
    assert english["explain"].startswith("Needs about ") and " (estimated)" in english["explain"]
    assert english["overflow"] == overflow.format(setting=setting)
    assert english["gguf"] == not_gguf.format(name="notes.txt")

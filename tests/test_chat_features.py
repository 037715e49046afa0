"""Versions, message actions, per-chat settings and the context budget, in the real window
with the real model."""

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.ui.chat_view import LeftOutMark
from desktop.workers.chat_session import effective_params


def answer_dialog(choose):
    """Answer the next modal dialog with choose(box), once it is on screen."""
    timer = QTimer()
    timer.setInterval(50)

    def poll():
        box = QApplication.activeModalWidget()
        if box is None:
            box = next((w for w in QApplication.topLevelWidgets()
                        if isinstance(w, QMessageBox) and w.isVisible()), None)
        if box is not None:
            timer.stop()
            choose(box)

    timer.timeout.connect(poll)
    timer.start()
    return timer


def send(qtbot, window, text, **params):
    window.session.params = {"temperature": 0, "max_tokens": 12, **params}
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as done:
        window.prompt.setPlainText(text)
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    return done.args[0]


def wait_reply(qtbot, window, action):
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as done:
        action()
    return done.args[0]


def test_regenerate_keeps_both_versions_and_switches_between_them(make_window, qtbot):
    window = make_window()
    send(qtbot, window, "Name a colour.", temperature=1.0, seed=1)
    first = window.chat_view.messages()[-1].text
    window.session.params = {"temperature": 1.0, "max_tokens": 12, "seed": 2}
    wait_reply(qtbot, window, lambda: qtbot.mouseClick(window.chat_view.messages()[-1].redo_button,
                                                       Qt.MouseButton.LeftButton))
    cid = window.session.current_id
    user, reply = window.chat_view.messages()
    second = reply.text
    assert reply.version_label.text() == "2/2" and reply.previous_button.isEnabled()
    stored = window.store.messages(cid)
    assert [m.content for m in stored] == [user.text, second]
    assert len(window.store.versions(stored[1].id)) == 2
    # ‹ back to the first version: the view and the stored chat both show it.
    qtbot.mouseClick(reply.previous_button, Qt.MouseButton.LeftButton)
    reply = window.chat_view.messages()[-1]
    assert reply.text == first and reply.version_label.text() == "1/2"
    assert window.store.messages(cid)[-1].content == first
    assert not reply.previous_button.isEnabled() and reply.next_button.isEnabled()


def test_same_seed_same_reply_other_seed_other_reply(make_window, qtbot):
    window = make_window()
    texts = []
    for seed in (7, 7, 8):
        send(qtbot, window, "Tell me a story about a cat.", temperature=1.2, seed=seed, max_tokens=24)
        texts.append(window.chat_view.messages()[-1].text)
        window.session.new_conversation()
    assert texts[0] == texts[1] and texts[0] != texts[2]


def test_edit_and_resend_makes_a_new_version_of_the_turn(make_window, qtbot):
    window = make_window()
    send(qtbot, window, "What is 2 + 2?")
    user = window.chat_view.messages()[0]
    qtbot.mouseClick(user.redo_button, Qt.MouseButton.LeftButton)
    assert user.editor is not None and user.editor.toPlainText() == "What is 2 + 2?"
    user.editor.setPlainText("What is 3 + 3?")
    wait_reply(qtbot, window, user._submit_edit)
    cid = window.session.current_id
    shown = window.chat_view.messages()
    assert [w.text for w in shown][0] == "What is 3 + 3?" and shown[0].version_label.text() == "2/2"
    assert [m.content for m in window.store.messages(cid)][0] == "What is 3 + 3?"
    qtbot.mouseClick(shown[0].previous_button, Qt.MouseButton.LeftButton)
    assert window.chat_view.messages()[0].text == "What is 2 + 2?"
    assert len(window.chat_view.messages()) == 2  # the original question with its own reply


def test_actions_wait_while_a_reply_is_written(make_window, qtbot):
    window = make_window()
    send(qtbot, window, "Hi")
    window.session.params = {"temperature": 0, "max_tokens": 400}
    window.prompt.setPlainText("Write a long poem.")
    with qtbot.waitSignal(window.host.chunk_generated, timeout=30_000):
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    first_reply = window.chat_view.messages()[1]
    assert not first_reply.redo_button.isEnabled() and not first_reply.delete_button.isEnabled()
    assert window.session.regenerate(window.store.messages(window.session.current_id)[1].id) is False
    with qtbot.waitSignal(window.session.reply_finished, timeout=30_000):
        window.session.stop()
    assert window.chat_view.messages()[1].redo_button.isEnabled()


def test_copy_and_delete_a_message(make_window, qtbot):
    window = make_window()
    send(qtbot, window, "Say hello.")
    reply = window.chat_view.messages()[-1]
    qtbot.mouseClick(reply.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == reply.text != ""
    cid = window.session.current_id
    user_id = window.store.messages(cid)[0].id
    # The window asks first; "No" keeps everything.
    timer = answer_dialog(lambda box: box.button(QMessageBox.StandardButton.No).click())
    window.delete_message(user_id)
    timer.stop()
    assert len(window.store.messages(cid)) == 2
    window.delete_message(user_id, confirm=False)
    assert [m.role for m in window.store.messages(cid)] == ["assistant"]
    assert [w.role for w in window.chat_view.messages()] == ["assistant"]


def test_system_prompt_and_sampling_are_the_chats_own_and_reach_the_model(make_window, qtbot):
    window = make_window()
    window.show_chat_settings(True)
    panel = window.chat_settings
    # A preset fills the system prompt; a spin box changes this chat's max tokens.
    index = next(i for i in range(panel.preset_combo.count())
                 if panel.preset_combo.itemText(i) == "Concise")
    panel.preset_combo.setCurrentIndex(index)
    panel._on_preset_chosen(index)
    panel.spins["max_tokens"].setValue(5)
    panel.spins["temperature"].setValue(0)
    window.session.params = {}
    bare = window.session.reply_params()
    assert bare["max_tokens"] == 5 and bare["temperature"] == 0
    with qtbot.waitSignal(window.session.reply_finished, timeout=60_000) as done:
        window.prompt.setPlainText("Describe the ocean.")
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    stats = done.args[0]
    assert 0 < stats.completion_tokens <= 5
    cid = window.session.current_id
    saved = window.store.conversation_settings(cid)
    assert saved["system_prompt"].startswith("Answer in as few words")
    assert saved["sampling"] == {"max_tokens": 5, "temperature": 0.0}
    # The system prompt was in the prompt: its tokens are counted in what the engine read.
    from desktop.engines.counter import open_counter

    counter = open_counter(window.model_info.path)
    expected = counter.measure([{"role": "system", "content": saved["system_prompt"]},
                                {"role": "user", "content": "Describe the ocean."}])
    counter.close()
    assert stats.prompt_tokens == expected
    # Another chat has its own settings; coming back restores these.
    window.session.new_conversation()
    assert panel.system_edit.toPlainText() == "" and panel.spins["max_tokens"].value() == 512
    window.session.open_conversation(cid)
    assert panel.system_edit.toPlainText() == saved["system_prompt"]
    assert panel.spins["max_tokens"].value() == 5 and panel.spins["max_tokens"].font().bold()
    panel.reset_button.click()
    assert "sampling" not in window.store.conversation_settings(cid)


def test_saved_presets(make_window, qtbot):
    window = make_window()
    panel = window.chat_settings
    panel.system_edit.setPlainText("You are a pirate.")
    panel.save_preset("Pirate")
    assert [p.name for p in window.store.presets()] == ["Pirate"]
    window.session.new_conversation()
    index = panel.preset_combo.findText("Pirate")
    panel.preset_combo.setCurrentIndex(index)
    panel._on_preset_chosen(index)
    assert window.session.settings["system_prompt"] == "You are a pirate."
    panel._delete_preset()
    assert window.store.presets() == []


def test_sampling_defaults_come_from_the_model():
    assert effective_params({"temperature": 0.3, "top_k": 20}, {"sampling": {"top_k": 5}})[
        "temperature"] == 0.3
    params = effective_params({"temperature": 0.3, "top_k": 20}, {"sampling": {"top_k": 5},
                                                                   "context_policy": "stop"})
    assert params["top_k"] == 5 and params["context_policy"] == "stop"


def test_model_sampling_metadata_is_read(tmp_path):
    from desktop.engines.gguf import GGUFInfo, sampling_defaults
    from desktop.engines.onnx_engine import sampling_defaults as onnx_defaults

    info = GGUFInfo(path="x", file_size=0, version=3, metadata={
        "general.sampling.temp": 0.6, "general.sampling.top_k": 20, "general.sampling.top_p": 0.95})
    assert sampling_defaults(info) == {"temperature": 0.6, "top_k": 20, "top_p": 0.95}
    # The ONNX builder's stock greedy search section is not a recommendation...
    assert onnx_defaults({"search": {"do_sample": False, "temperature": 1.0}}, tmp_path) == {}
    # ...the author's generation_config.json is.
    (tmp_path / "generation_config.json").write_text(json.dumps(
        {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "repetition_penalty": 1.05}))
    assert onnx_defaults({}, tmp_path) == {"temperature": 0.7, "top_p": 0.8, "repeat_penalty": 1.05}


def test_context_meter_counts_what_the_engine_reads(make_window, qtbot):
    window = make_window()
    meter = window.context_meter
    with qtbot.waitSignal(window.counter.latest_counted, timeout=10_000):
        window.prompt.setPlainText("How far is the Moon from the Earth?")
    predicted = meter.result.total
    assert predicted > 5 and meter.result.draft > 5 and meter.state == "ok"
    assert f"/ {window.model_info.n_ctx:,} tokens" in meter.label.text()
    stats = send(qtbot, window, "How far is the Moon from the Earth?")
    assert stats.prompt_tokens == predicted


def long_chat(turns=20):
    messages = []
    for i in range(turns):
        messages.append({"role": "user", "content": f"Question {i}: tell me about rivers. " * 6})
        messages.append({"role": "assistant", "content": f"Answer {i}: rivers flow to the sea. " * 6})
    return {"format": "edgechat-conversation", "version": 1, "title": "Long", "messages": messages}


def test_rolling_window_marks_what_was_left_out_and_remembers_it(make_window, qtbot):
    window = make_window(n_ctx=1024)
    conversation = window.store.import_json(long_chat())
    window.session.open_conversation(conversation.id)
    with qtbot.waitSignal(window.counter.latest_counted, timeout=10_000):
        window.prompt.setPlainText("And lakes?")
    assert window.context_meter.state == "trimmed" and window.context_meter.result.dropped > 0
    stats = send(qtbot, window, "And lakes?")
    assert stats.dropped_messages > 0
    marks = window.chat_view.marks()
    left_out = [w for w in window.chat_view.messages() if w.left_out]
    assert len(marks) == 1 and len(left_out) == stats.dropped_messages
    assert "left out of the model's context" in marks[0].text()
    # The oldest went (rolling), the newest stayed.
    assert window.chat_view.messages()[0].left_out and not window.chat_view.messages()[-3].left_out
    window.session.new_conversation()
    window.session.open_conversation(conversation.id)
    assert len(window.chat_view.marks()) == 1


def test_stop_and_ask_then_keep_the_first_turn(make_window, qtbot):
    window = make_window(n_ctx=1024)
    conversation = window.store.import_json(long_chat())
    window.session.open_conversation(conversation.id)
    window.session.set_settings({"context_policy": "stop"})
    asked = []

    def answer(user_id, message):
        asked.append(message)
        QTimer.singleShot(0, lambda: window.session.resend(user_id, "keep_first"))

    window.session.context_full.disconnect(window._ask_context_full)
    window.session.context_full.connect(answer)
    stats = send(qtbot, window, "And lakes?")
    assert asked and "no longer fits" in asked[0]
    shown = window.chat_view.messages()
    assert not shown[0].left_out and not shown[1].left_out and shown[2].left_out  # first turn kept
    assert stats.dropped_messages > 0
    assert [m.role for m in window.store.messages(conversation.id)][-2:] == ["user", "assistant"]


def test_stop_and_ask_declined_gives_the_message_back(make_window, qtbot):
    window = make_window(n_ctx=1024)
    conversation = window.store.import_json(long_chat())
    window.session.open_conversation(conversation.id)
    window.session.set_settings({"context_policy": "stop"})
    before = len(window.store.messages(conversation.id))

    def decline(box):
        next(b for b in box.buttons() if b.text() == "Don't send").click()

    timer = answer_dialog(decline)
    with qtbot.waitSignal(window.session.context_full, timeout=60_000):
        window.prompt.setPlainText("And lakes?")
        qtbot.keyClick(window.prompt, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.prompt.toPlainText() == "And lakes?", timeout=10_000)
    timer.stop()
    assert len(window.store.messages(conversation.id)) == before
    assert not window.session.busy


def test_left_out_mark_is_a_widget_in_the_chat(qtbot):
    mark = LeftOutMark(3)
    qtbot.addWidget(mark)
    assert "3 messages" in mark.text()

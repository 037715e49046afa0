"""Text from engines, templates, the Hub or an imported chat shows as written, never as HTML: a
template's raise_exception("<a href=...><img src=...>") must not become a link and an image."""

from PySide6.QtCore import Qt

HTML = '<a href="x">link</a><img src="y">'


def test_the_error_banner_shows_html_as_text(make_window):
    window = make_window(load=False)
    window.show_error(HTML)
    assert window.banner.textFormat() == Qt.TextFormat.PlainText
    assert window.banner.text() == HTML
    window.show_notice(HTML)
    assert window.banner.text() == HTML
    assert window.model_label.textFormat() == Qt.TextFormat.PlainText


def test_a_message_footer_with_an_error_shows_html_as_text(qtbot):
    from desktop.ui.chat_view import MessageWidget

    widget = MessageWidget("assistant")
    qtbot.addWidget(widget)
    widget.set_status("error", HTML)
    assert widget.footer.textFormat() == Qt.TextFormat.PlainText
    assert widget.footer.text() == f"Error: {HTML}"
    assert widget.header.textFormat() == Qt.TextFormat.PlainText
    imported = MessageWidget(HTML)  # an imported chat's role is whatever the file said
    qtbot.addWidget(imported)
    assert imported.header.text() == HTML


def test_the_context_meter_and_the_model_defaults_show_html_as_text(qtbot, tmp_path):
    from desktop.storage import ConversationStore
    from desktop.ui.chat_settings import ChatSettings
    from desktop.ui.context_meter import ContextMeter

    meter = ContextMeter()
    qtbot.addWidget(meter)
    meter.set_unknown(HTML)
    assert meter.label.textFormat() == Qt.TextFormat.PlainText
    assert meter.label.text() == HTML

    store = ConversationStore(tmp_path / "conversations.sqlite3")
    try:
        settings = ChatSettings(store)
        qtbot.addWidget(settings)
        assert settings.defaults_label.textFormat() == Qt.TextFormat.PlainText
    finally:
        store.close()


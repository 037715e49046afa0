"""The app's small JSON files (model list, servers, load settings, paused downloads, speed
calibration) survive crashes, concurrent writers, damage and a downgrade without losing anything,
and a damaged one is said to the user once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop import notices
from desktop.storage import jsondoc
from desktop.storage.jsondoc import DocumentError, JsonDocument

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_old_notices():
    notices.drain()
    yield
    notices.drain()


def doc(path: Path, **kwargs) -> JsonDocument:
    return JsonDocument(path, what="The test list", default=lambda: {"items": []}, **kwargs)


def told_about(path: Path) -> list[str]:
    return [m for m in notices.drain() if str(path) in m]


def aside(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".damaged-*"))


def test_a_change_is_written_whole_with_its_version(tmp_path):
    path = tmp_path / "sub" / "list.json"
    d = doc(path)
    assert d.read() == {"items": [], "version": 1}
    assert not path.exists()  # reading writes nothing
    assert d.update(lambda data: data["items"].append("a") or "result") == "result"
    assert json.loads(path.read_text(encoding="utf-8")) == {"version": 1, "items": ["a"]}
    d.write({"items": ["b"]})
    assert d.read() == {"version": 1, "items": ["b"]}
    assert [p.name for p in path.parent.iterdir() if p.name != "list.json.lock"] == ["list.json"]


def test_a_file_from_before_versions_is_read_as_it_is(tmp_path):
    path = tmp_path / "list.json"
    path.write_text('{"items": ["old"]}', encoding="utf-8")
    assert doc(path).read() == {"items": ["old"], "version": 1}
    assert told_about(path) == [] and aside(path) == []


def test_a_crash_between_writing_and_renaming_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "list.json"
    d = doc(path)
    d.write({"items": ["kept"]})
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsondoc.os, "replace", crash)
    with pytest.raises(OSError):
        d.update(lambda data: data["items"].append("lost"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.json", "list.json.lock"]


def test_a_process_killed_before_the_rename_leaves_the_old_file(tmp_path):
    """A real crash: the process dies with its temporary file written and not renamed."""
    path = tmp_path / "list.json"
    doc(path).write({"items": ["kept"]})
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from desktop.storage import jsondoc\n"
        "jsondoc.os.replace = lambda *a: os._exit(3)\n"
        "jsondoc.JsonDocument(Path(sys.argv[1]), what='x', default=lambda: {'items': []})"
        ".update(lambda data: data['items'].append('lost'))\n")
    out = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 3, out.stderr
    assert list(tmp_path.glob(".list.json.*.tmp"))  # the crash left its temporary file
    assert doc(path).read()["items"] == ["kept"]
    doc(path).update(lambda data: data["items"].append("next"))
    assert doc(path).read()["items"] == ["kept", "next"]
    assert not list(tmp_path.glob(".list.json.*.tmp"))  # the next writer cleared it


WRITER = r"""
import sys, time
from pathlib import Path
from desktop.storage.jsondoc import JsonDocument
path, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
doc = JsonDocument(path, what="x", default=lambda: {"items": []})
def add(n):
    def change(data):
        items = list(data["items"])
        time.sleep(0.002)  # a slow writer: without the lock another one would write in between
        data["items"] = items + [f"{name}-{n}"]
    return change
for n in range(count):
    doc.update(add(n))
"""


def test_updates_from_several_processes_lose_nothing(tmp_path):
    path = tmp_path / "list.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "40"], cwd=ROOT, env=env,
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b", "c")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    items = doc(path).read()["items"]
    assert sorted(items) == sorted(f"{name}-{n}" for name in "abc" for n in range(40))


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe\x00garbage", b"", b'["a list, not the object it should be"]',
    b'{"version": "2", "items": []}', b"[" * 100_000,
], ids=["not json", "not utf-8", "empty", "wrong type", "version not a number", "nested too deep"])
def test_a_damaged_file_is_moved_aside_once_and_said_once(tmp_path, content):
    path = tmp_path / "list.json"
    path.write_bytes(content)
    d = doc(path)
    assert d.read() == {"items": [], "version": 1}
    assert d.read() == {"items": [], "version": 1}  # read again: nothing more moved or said
    (kept,) = aside(path)
    assert kept.read_bytes() == content
    (message,) = told_about(path)
    assert str(kept) in message and "damaged" in message
    d.update(lambda data: data["items"].append("new"))  # the defaults carry on
    assert d.read()["items"] == ["new"] and aside(path) == [kept] and told_about(path) == []


def test_a_damaged_file_is_not_written_over_unread(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("{half a fi", encoding="utf-8")
    doc(path).update(lambda data: data["items"].append("new"))  # no read before the change
    (kept,) = aside(path)
    assert kept.read_text(encoding="utf-8") == "{half a fi"
    assert len(told_about(path)) == 1
    assert doc(path).read()["items"] == ["new"]


def test_a_second_damage_is_kept_beside_the_first(tmp_path):
    path = tmp_path / "list.json"
    for content in ("{first", "{second"):
        path.write_text(content, encoding="utf-8")
        doc(path).read()
    assert sorted(p.read_text(encoding="utf-8") for p in aside(path)) == ["{first", "{second"]
    assert len(told_about(path)) == 2


def test_readers_at_once_move_a_damaged_file_aside_once(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("{broken", encoding="utf-8")
    barrier = threading.Barrier(8)
    results = []

    def read():
        barrier.wait()
        results.append(doc(path).read())

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{"items": [], "version": 1}] * 8
    assert len(aside(path)) == 1 and len(told_about(path)) == 1


def test_a_newer_versions_file_is_left_alone(tmp_path):
    """Going back to an older EdgeChat must not destroy what the newer one wrote."""
    path = tmp_path / "list.json"
    newer = b'{"version": 7, "items": {"a shape": "this version does not know"}}'
    path.write_bytes(newer)
    d = doc(path)
    assert d.read() == {"items": [], "version": 1}
    assert d.read() == {"items": [], "version": 1}
    with pytest.raises(DocumentError, match="newer version"):
        d.update(lambda data: data["items"].append("x"))
    with pytest.raises(DocumentError):
        d.write({"items": []})
    assert path.read_bytes() == newer and aside(path) == []
    (message,) = told_about(path)
    assert "newer version" in message


def test_the_lock_timeout_is_said_in_the_callers_words(tmp_path):
    from filelock import FileLock

    class MyError(Exception):
        pass

    path = tmp_path / "list.json"
    d = doc(path, lock_timeout=0.1, error=MyError)
    with FileLock(str(path) + ".lock"), pytest.raises(MyError, match="another EdgeChat"):
        d.update(lambda data: None)


def test_an_update_may_read_its_own_document(tmp_path):
    path = tmp_path / "list.json"
    d = doc(path)
    d.write({"items": [1]})
    assert d.update(lambda data: doc(path).update(lambda inner: inner["items"].append(2)) or 0) == 0


# -- the app's own files ------------------------------------------------------------------------


def test_a_damaged_model_list_is_said_and_the_library_keeps_working(tmp_path, model_path):
    from desktop.models.library import Library

    root = tmp_path / "models"
    root.mkdir()
    registry = root / "library.json"
    registry.write_text('{"version": 1, "models": [{"id": "x", "na', encoding="utf-8")
    library = Library(root)
    assert library.models() == []
    (message,) = told_about(registry)
    assert "model list" in message
    imported = library.import_path(model_path)
    assert [m.id for m in Library(root).models()] == [imported.id]
    assert len(aside(registry)) == 1


def test_the_model_list_keeps_entries_only_a_newer_version_reads(tmp_path, model_path):
    from desktop.models.library import Library

    root = tmp_path / "models"
    root.mkdir()
    future = {"id": "f", "name": "F", "format": "gguf", "path": "/x.gguf", "source": "import",
              "a_field_from_later": 1}
    # Written before versions: no "version" key.
    (root / "library.json").write_text(json.dumps({"models": [future]}), encoding="utf-8")
    library = Library(root)
    assert library.models() == []
    library.import_path(model_path)
    stored = json.loads((root / "library.json").read_text(encoding="utf-8"))
    assert stored["version"] == 1 and future in stored["models"] and len(stored["models"]) == 2


def test_a_damaged_server_list_is_said_and_servers_can_be_saved(data_dir):
    from desktop.models import remotes

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "remotes.json"
    path.write_text('{"servers": [{"id": ', encoding="utf-8")
    assert remotes.servers() == []
    assert "servers" in told_about(path)[0]
    saved = remotes.save_server("http://127.0.0.1:9/v1", ["m"], name="Here")
    assert [s.id for s in remotes.servers()] == [saved.id]
    remotes.remove_model(f"remote://{saved.id}/m")
    assert remotes.server(saved.id).models == ()
    remotes.remove_server(saved.id)
    assert remotes.servers() == [] and len(aside(path)) == 1


def test_a_server_list_from_before_versions_is_read(data_dir):
    from desktop.models import remotes

    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "remotes.json").write_text(json.dumps(
        {"servers": [{"id": "s1", "name": "Box", "base_url": "http://10.0.0.2:8080/v1", "models": ["a"]}]}),
        encoding="utf-8")
    assert [(s.id, s.models) for s in remotes.servers()] == [("s1", ("a",))]


def test_damaged_load_settings_are_said_and_models_load_with_defaults(data_dir, model_path):
    from desktop.models import load_settings
    from desktop.models.load_settings import LoadSettings

    path = load_settings.settings_path()
    path.write_bytes(b"\x00\x00\x00\x00")  # a power cut on a file system that does not journal data
    assert load_settings.get(model_path) is None
    assert load_settings.options_for(model_path) == {}
    assert "load settings" in told_about(path)[0]
    load_settings.save(model_path, LoadSettings(n_ctx=1024))
    assert load_settings.get(model_path).n_ctx == 1024
    load_settings.forget(model_path)
    assert load_settings.get(model_path) is None and len(aside(path)) == 1


def test_a_damaged_download_list_is_said_and_downloads_carry_on(tmp_path):
    from desktop.models import downloads as dl
    from desktop.models.hub import RemoteFile
    from desktop.models.library import Library

    library = Library(tmp_path / "models")
    path = dl._pending_path(library)
    path.parent.mkdir(parents=True)
    path.write_text("[{", encoding="utf-8")
    assert dl.pending(library) == []
    assert "paused downloads" in told_about(path)[0]
    plan = dl.DownloadPlan("a/b", "c" * 40, "gguf", (RemoteFile("x.gguf", 1, "0" * 64, None),),
                           "a/b/x.gguf", "x")
    dl.save_pending(library, plan)
    assert dl.pending(library) == [plan]
    dl.drop_pending(library, plan.id)
    assert dl.pending(library) == [] and len(aside(path)) == 1


def test_a_download_list_from_before_versions_is_read(tmp_path):
    from desktop.models import downloads as dl
    from desktop.models.library import Library

    library = Library(tmp_path / "models")
    plan = dl.DownloadPlan("a/b", "c" * 40, "gguf", (), "a/b/x.gguf", "x")
    path = dl._pending_path(library)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps([plan.to_dict()]), encoding="utf-8")  # a list, as it was
    assert dl.pending(library) == [plan]
    dl.drop_pending(library, plan.id)
    assert json.loads(path.read_text(encoding="utf-8")) == {"version": 1, "downloads": []}


def test_a_damaged_speed_calibration_is_said_and_measured_again(data_dir):
    from desktop import hardware

    path = hardware.calibration_path()
    path.write_text('{"machine": ', encoding="utf-8")
    assert hardware.read_calibration() == {}
    assert "speed calibration" in told_about(path)[0]
    hardware.update_calibration(lambda data: data.update(bandwidth=1e10))
    assert hardware.read_calibration()["bandwidth"] == 1e10
    assert len(aside(path)) == 1

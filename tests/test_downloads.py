"""Downloads through the real huggingface_hub client against a Hub look-alike on 127.0.0.1,
with faults: every one ends in a verified model or a clear error, never a bad file installed."""

import hashlib
import os
import shutil
import threading
import time
from collections import namedtuple
from pathlib import Path

import pytest

from desktop.models import downloads as dl
from desktop.models.downloads import (
    DiskFullError,
    DownloadControl,
    Downloader,
    DownloadError,
    DownloadStalled,
    DownloadStopped,
    VerificationError,
    pending,
    plan_download,
    save_pending,
)
from desktop.models.hub import HubAuthError
from desktop.models.library import InstalledModel, Library
from tests.hubserver import HubServer, point_huggingface_hub_at

BLOB = os.urandom(3 * 1024 * 1024 + 17)  # several http chunks, not a round number
FILE = "tiny-Q4_K_M.gguf"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    server = HubServer()
    server.add_repo("acme/tiny-GGUF", {FILE: BLOB, "README.md": b"# tiny"}, tags=["gguf"])
    server.add_repo("acme/gated-GGUF", {FILE: BLOB}, gated="manual", tags=["gguf"])
    server.valid_tokens["hf_goodtoken123"] = "alice"
    with server:
        point_huggingface_hub_at(server, monkeypatch, tmp_path / "hf-home")
        yield server
    assert not server.errors


@pytest.fixture
def library(tmp_path):
    return Library(tmp_path / "models")


def run(plan, library, token=None, **kw):
    d = Downloader(plan, library, token=token, **kw)
    d.backoff_s = 0.01
    return d, d.run()


def test_download_is_verified_and_installed(hub, library):
    events = []
    plan = plan_download("acme/tiny-GGUF", filename=FILE, token=None)
    assert plan.files[0].sha256 == hashlib.sha256(BLOB).hexdigest()
    _, model = run(plan, library, on_progress=events.append)
    assert Path(model.path).read_bytes() == BLOB
    assert library.get(plan.id).verified[FILE] == f"sha256:{hashlib.sha256(BLOB).hexdigest()}"
    assert events[-1].phase == "done" and events[-1].done == len(BLOB)
    assert any(e.phase == "verifying" for e in events)
    assert pending(library) == []
    assert not (library.root / ".partial" / plan.target).with_name(FILE + ".part").exists()


def test_dropped_connection_resumes_with_a_range_request(hub, library):
    hub.drop_after(FILE, 2_500_000, times=2)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    _, model = run(plan, library)
    assert Path(model.path).read_bytes() == BLOB
    ranges = [r.range for r in hub.requests_for(FILE, "GET") if r.range]
    # whole 1 MiB pieces are kept: the second request starts after the two that arrived
    assert ranges and ranges[0] == "bytes=2097152-"


def test_server_errors_are_retried(hub, library):
    hub.fail_with(FILE, status=500, times=2, method="GET")
    events = []
    _, model = run(plan_download("acme/tiny-GGUF", filename=FILE), library, on_progress=events.append)
    assert Path(model.path).read_bytes() == BLOB
    assert sum(e.phase == "retrying" for e in events) == 2


def test_pause_then_resume_after_a_restart(hub, library):
    hub.slow(FILE, 2_000_000)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    first = Downloader(plan, library)
    seen = threading.Event()

    def progress(p):
        if p.done > 500_000:
            seen.set()
            first.pause()

    first.on_progress = progress
    with pytest.raises(DownloadStopped):
        first.run()
    part = first._part_path(plan.files[0])
    kept = part.stat().st_size
    assert 0 < kept < len(BLOB)
    assert library.get(plan.id) is None
    assert [p.id for p in pending(Library(library.root))] == [plan.id]  # survives a restart
    hub.clear_faults()
    hub.clear_requests()
    resumed = pending(Library(library.root))[0]  # the next session resumes the same pinned plan
    _, model = run(resumed, Library(library.root))
    assert Path(model.path).read_bytes() == BLOB
    (get,) = hub.requests_for(FILE, "GET")
    assert get.range == f"bytes={kept}-"  # not from zero


def test_cancel_removes_the_partial_file(hub, library):
    hub.slow(FILE, 2_000_000)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    d = Downloader(plan, library)
    d.on_progress = lambda p: d.cancel() if p.done > 200_000 else None
    with pytest.raises(DownloadStopped):
        d.run()
    assert d.cancel_requested
    d.discard_partial()
    assert not d._part_path(plan.files[0]).exists() and pending(library) == []


def test_corrupted_bytes_are_kept_aside_and_not_installed(hub, library):
    hub.corrupt(FILE, 123_456)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    with pytest.raises(VerificationError, match="failed verification") as err:
        run(plan, library)
    assert library.get(plan.id) is None and not (library.root / plan.target).exists()
    aside = err.value.quarantined
    assert aside.exists() and aside.stat().st_size == len(BLOB)  # kept, not deleted
    assert str(aside) in str(err.value)


def test_a_server_that_truncates_is_a_clear_error_not_an_install(hub, library):
    hub.truncate(FILE, 1_000_000)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    with pytest.raises(DownloadError, match="kept; resume"):
        run(plan, library)
    assert library.get(plan.id) is None and not (library.root / plan.target).exists()


def test_not_enough_disk_is_refused_before_downloading(hub, library, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 1000, 1000))
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    hub.clear_requests()
    with pytest.raises(DiskFullError, match="Not enough disk space"):
        run(plan, library)
    assert hub.requests_for(FILE, "GET") == []


def test_gated_and_token_errors_say_what_to_do(hub, library):
    # Like the Hub, a gated repo's listing is public: the files are what need access.
    plan = plan_download("acme/gated-GGUF", filename=FILE, token=None)
    with pytest.raises(DownloadError, match="accept the licence.*token in Settings"):
        run(plan, library, token=None)
    with pytest.raises(HubAuthError, match="token was refused") as bad:
        plan_download("acme/gated-GGUF", filename=FILE, token="hf_wrongtoken999")
    assert "hf_wrongtoken999" not in str(bad.value)
    with pytest.raises(DownloadError, match="no access yet: accept the licence"):
        run(plan, library, token="hf_goodtoken123")
    assert library.get(plan.id) is None
    hub.grant_access("acme/gated-GGUF", "alice")
    plan = plan_download("acme/gated-GGUF", filename=FILE, token="hf_goodtoken123")
    _, model = run(plan, library, token="hf_goodtoken123")
    assert Path(model.path).read_bytes() == BLOB


def test_paths_that_leave_the_folder_are_refused(hub, library):
    for bad in ("../evil.gguf", "/etc/passwd", "a/../../b.gguf"):
        with pytest.raises(DownloadError):
            plan_download("acme/tiny-GGUF", filename=bad)
    with pytest.raises(DownloadError, match="not a repository id"):
        plan_download("../x", filename=FILE)


def test_a_stalled_transfer_is_paused_quickly_and_resumes(hub, library):
    """The server stops sending mid-file with the connection open: paused as stalled within the
    stall timeout and a little, not after minutes of retries inside retries (341 s before)."""
    hub.stall(FILE, 2_500_000)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    events = []
    d = Downloader(plan, library, stall_timeout_s=1.5, on_progress=events.append)
    started = time.monotonic()
    with pytest.raises(DownloadStalled, match="server stopped sending; paused"):
        d.run()
    assert time.monotonic() - started < 1.5 + 10  # not minutes; room for a loaded machine
    assert events[-1].phase == "stalled"
    assert d._part_path(plan.files[0]).stat().st_size == 2 * 1024 * 1024  # whole pieces kept
    assert [p.id for p in pending(library)] == [plan.id] and library.get(plan.id) is None
    hub.clear_faults()
    hub.clear_requests()
    _, model = run(plan, Library(library.root))
    assert Path(model.path).read_bytes() == BLOB
    (get,) = hub.requests_for(FILE, "GET")
    assert get.range == "bytes=2097152-"


def test_the_stall_timeout_is_one_setting(monkeypatch, library):
    from desktop.models import hub as hub_module

    plan = dl.DownloadPlan("a/b", "c" * 40, "gguf", (), "a/b/x.gguf", "x")
    assert Downloader(plan, library).stall_timeout_s == hub_module.STALL_TIMEOUT_S == 30
    monkeypatch.setenv("EDGECHAT_STALL_TIMEOUT_S", "1.5")
    assert Downloader(plan, library).stall_timeout_s == 1.5
    assert Downloader(plan, library, stall_timeout_s=4).stall_timeout_s == 4


def test_pause_while_the_server_is_silent_is_quick(hub, library):
    hub.stall(FILE, 1_500_000)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    d = Downloader(plan, library)  # the real 30 s stall timeout
    threading.Timer(1.0, d.pause).start()
    started = time.monotonic()
    with pytest.raises(DownloadStopped) as stopped:
        d.run()
    assert not isinstance(stopped.value, DownloadStalled)
    assert time.monotonic() - started < 1.0 + 9  # well before the 30 s stall timeout
    assert d._part_path(plan.files[0]).stat().st_size == 1024 * 1024


def test_cancel_during_planning_stops_without_waiting_for_the_hub(hub):
    hub.delay("/api/models/acme/tiny-GGUF", 5)
    control = DownloadControl()
    threading.Timer(0.3, control.cancel).start()
    started = time.monotonic()
    with pytest.raises(DownloadStopped):
        plan_download("acme/tiny-GGUF", filename=FILE, control=control)
    assert time.monotonic() - started < 3.5 and control.cancelled  # the Hub answers after 5 s


def test_removing_and_importing_during_a_download_both_survive(hub, library, model_path):
    """The download's own Library was read when it started; the window's changes made
    meanwhile must not be undone when the download lists its model."""
    gone = library.add(InstalledModel(id="old", name="old", format="gguf", path="/x/old.gguf",
                                      source="import"))
    hub.slow(FILE, 3_000_000)
    plan = plan_download("acme/tiny-GGUF", filename=FILE)
    d = Downloader(plan, Library(library.root))
    window = Library(library.root)
    changed = threading.Event()

    def progress(p):
        if p.done > 200_000 and not changed.is_set():
            window.remove(gone.id)
            window.import_path(model_path)
            changed.set()

    d.on_progress = progress
    d.run()
    assert changed.is_set()
    after = {m.id for m in Library(library.root).models()}
    assert gone.id not in after
    assert plan.id in after and any(m.path == str(model_path.resolve())
                                    for m in Library(library.root).models())


def test_two_library_copies_do_not_undo_each_other(library):
    first, second = Library(library.root), Library(library.root)
    first.add(InstalledModel(id="a", name="a", format="gguf", path="/a.gguf", source="import"))
    second.add(InstalledModel(id="b", name="b", format="gguf", path="/b.gguf", source="import"))
    first.remove("a")  # with a copy that has never seen "b"
    assert {m.id for m in Library(library.root).models()} == {"b"}
    assert {m.id for m in first.models()} == {"b"}  # the copy is what was written


def _add_many(root: str, prefix: str, count: int) -> None:
    library = Library(root)
    for n in range(count):
        library.add(InstalledModel(id=f"{prefix}-{n}", name=f"{prefix}-{n}", format="gguf",
                                   path=f"/{prefix}/{n}.gguf", source="import"))
        plan = dl.DownloadPlan("a/b", "c" * 40, "gguf", (), f"a/b/{prefix}-{n}.gguf",
                               f"{prefix}-{n}", variant_id=f"{prefix}-{n}")
        save_pending(library, plan)


def test_processes_writing_at_once_lose_nothing(library):
    """The CLI and a second app instance write the same files: no change may be lost."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(str(library.root), f"p{i}", 15))
               for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    expected = {f"p{i}-{n}" for i in range(4) for n in range(15)}
    assert {m.id for m in Library(library.root).models()} == expected
    assert {p.id for p in pending(library)} == expected


def test_real_gguf_downloads_and_chats(tmp_path, monkeypatch, model_path):
    from desktop.engines.base import SamplingParams
    from desktop.engines.llama_engine import LlamaEngine

    server = HubServer(lfs_redirect=True)  # LFS through a "CDN", as huggingface.co does
    server.add_repo("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
                    {model_path.name: model_path.read_bytes()}, tags=["gguf"])
    with server:
        point_huggingface_hub_at(server, monkeypatch, tmp_path / "hf-home")
        library = Library(tmp_path / "models")
        plan = plan_download("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", filename=model_path.name)
        _, model = run(plan, library)
    with LlamaEngine(model.path, n_ctx=512) as engine:
        text = "".join(engine.stream([{"role": "user", "content": "Hi"}],
                                     SamplingParams(temperature=0, max_tokens=8)))
    assert text.strip()


def test_real_onnx_folder_downloads_and_chats(tmp_path, monkeypatch, onnx_model):
    from desktop.engines.base import SamplingParams
    from desktop.engines.onnx_engine import OnnxEngine

    server = HubServer()
    files = {f"cpu-int4/{f.name}": f.read_bytes() for f in onnx_model.iterdir()}
    files["README.md"] = b"# SmolLM2 ONNX"
    server.add_repo("acme/SmolLM2-onnx", files, tags=["onnx"])
    with server:
        point_huggingface_hub_at(server, monkeypatch, tmp_path / "hf-home")
        library = Library(tmp_path / "models")
        with pytest.raises(DownloadError, match="cpu-int4"):  # names the folders that are models
            plan_download("acme/SmolLM2-onnx", subfolder=".")
        plan = plan_download("acme/SmolLM2-onnx", subfolder="cpu-int4")
        assert {f.path for f in plan.files} == {f"cpu-int4/{f.name}" for f in onnx_model.iterdir()}
        _, model = run(plan, library)
    assert model.format == "onnx" and sorted(os.listdir(model.path)) == sorted(
        f.name for f in onnx_model.iterdir())
    with OnnxEngine(model.path) as engine:
        text = "".join(engine.stream([{"role": "user", "content": "Hi"}],
                                     SamplingParams(temperature=0, max_tokens=8)))
    assert text.strip()
    shutil.rmtree(model.path)

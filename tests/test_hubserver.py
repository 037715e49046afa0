"""tests/hubserver.py against the real huggingface_hub client (2.4.0), no network and no Qt.

Besides proving the fake Hub is faithful, these tests pin down how huggingface_hub itself behaves
when the network misbehaves, which the app has to build on:

* A connection dropped mid-file is resumed by hf_hub_download *within the same call*: it sleeps 1 s
  and re-requests with ``Range: bytes=N-``, up to 5 times in a row without progress. N only counts
  whole 10 MiB chunks (DOWNLOAD_CHUNK_SIZE): bytes after the last full chunk are thrown away, so a
  file under 10 MiB is fetched again from byte 0 without a Range header.
* There is no resume *across* calls: the partial file has a per-call random name and is deleted
  when the call fails; the next call starts from byte 0. When retries run out the raw
  ``httpx2.RemoteProtocolError`` escapes, not an HfHubHTTPError.
* 5xx on the download GET is not retried: HfHubHTTPError at once. 5xx on the metadata HEAD is
  retried once the cheap way, then with backoff (1, 2, 4, 8, 8 s); if all fail the caller gets
  LocalEntryNotFoundError. model_info() does not retry; list_models() pages use the backoff.
* The client never checks the sha256 of what it downloaded; it only compares sizes against
  X-Linked-Size / Content-Length. A corrupt byte goes unnoticed; the app must hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import random
import socket
import time
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import (
    HfApi,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hubserver import HubServer, point_huggingface_hub_at

MiB = 1024 * 1024
BIG = random.Random(1).randbytes(12 * MiB)  # over one 10 MiB download chunk, so resume is visible
SMALL = random.Random(2).randbytes(300_000)
GGUF_REPO = "acme/tiny-GGUF"
ONNX_REPO = "acme/tiny-onnx"
GATED_REPO = "meta/gated-GGUF"
PRIVATE_REPO = "alice/secret-GGUF"
SHA = "0123456789abcdef0123456789abcdef01234567"


class _RecordingTime:
    """Stands in for the ``time`` module inside huggingface_hub: records the back-off sleeps
    instead of waiting them out, so retry tests stay fast and still show the schedule."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    from huggingface_hub import file_download
    from huggingface_hub.utils import _http

    fake = _RecordingTime()
    monkeypatch.setattr(file_download, "time", fake)
    monkeypatch.setattr(_http, "time", fake)
    return fake.sleeps


def _populate(server: HubServer) -> None:
    server.valid_tokens.update({"hf_good": "alice", "hf_bob": "bob"})
    server.add_repo(GGUF_REPO, {"tiny.Q4_K_M.gguf": BIG, "small.Q8_0.gguf": SMALL, "README.md": "# tiny\n",
                                "extra/config.json": '{"a": 1}', "extra/deep/notes.txt": "notes"},
                    revision_sha=SHA, tags=["text-generation"], pipeline_tag="text-generation",
                    library_name="gguf", license="apache-2.0", downloads=50, likes=3,
                    gguf={"total": 135_000_000, "architecture": "llama", "context_length": 8192})
    server.add_repo(ONNX_REPO, {"model.onnx": b"onnx" * 100, "model.onnx.data": b"\0" * 5000,
                                "genai_config.json": "{}"}, library_name="onnxruntime-genai", downloads=100)
    server.add_repo(GATED_REPO, {"gated.gguf": SMALL, "README.md": "gated"}, gated="manual", license="llama3")
    server.add_repo(PRIVATE_REPO, {"secret.gguf": SMALL}, private=True)


@pytest.fixture
def make_hub(monkeypatch, tmp_path):
    started: list[HubServer] = []

    def make(**kwargs) -> HubServer:
        server = HubServer(**kwargs)
        _populate(server)
        started.append(server.start())
        point_huggingface_hub_at(server, monkeypatch, tmp_path / "hf_home")
        return server

    yield make
    for server in started:
        server.stop()
    assert not [e for server in started for e in server.errors], "the fake Hub itself failed"


@pytest.fixture
def hub(make_hub) -> HubServer:
    return make_hub()


def _sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _raw(server: HubServer, method: str, path: str, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# -- metadata -----------------------------------------------------------------------------------


def test_model_info_with_files_metadata_gives_lfs_sha256(hub, tmp_path):
    info = HfApi().model_info(GGUF_REPO, files_metadata=True)
    assert info.sha == SHA
    siblings = {s.rfilename: s for s in info.siblings}
    big = siblings["tiny.Q4_K_M.gguf"]
    assert big.size == len(BIG)
    assert big.lfs.sha256 == hashlib.sha256(BIG).hexdigest() and big.lfs.size == len(BIG)
    assert big.lfs.pointer_size > 0 and len(big.blob_id) == 40
    assert siblings["README.md"].lfs is None and siblings["README.md"].size == len("# tiny\n")
    assert info.gguf == {"total": 135_000_000, "architecture": "llama", "context_length": 8192}
    assert info.card_data.license == "apache-2.0"
    assert info.gated is False and info.private is False
    assert info.library_name == "gguf" and info.pipeline_tag == "text-generation"
    assert {"gguf", "license:apache-2.0", "text-generation"} <= set(info.tags)
    assert info.downloads == 50 and info.likes == 3 and info.last_modified is not None
    # Without files_metadata the Hub lists names only; the endpoint came from HF_ENDPOINT.
    plain = HfApi().model_info(GGUF_REPO, revision=SHA)
    assert all(s.size is None and s.lfs is None for s in plain.siblings)
    assert [r.path for r in hub.requests] == [f"/api/models/{GGUF_REPO}",
                                              f"/api/models/{GGUF_REPO}/revision/{SHA}"]
    assert hub.requests[0].query == {"blobs": ["true"]}
    assert not (tmp_path / "hf_home" / "hub").exists(), "metadata calls must not write to the cache"


def test_list_repo_tree_flat_recursive_and_paginated(make_hub):
    hub = make_hub(tree_page_size=2)
    api = HfApi()
    top = {e.path: e for e in api.list_repo_tree(GGUF_REPO)}
    assert set(top) == {"tiny.Q4_K_M.gguf", "small.Q8_0.gguf", "README.md", "extra"}
    assert type(top["extra"]).__name__ == "RepoFolder"
    assert top["tiny.Q4_K_M.gguf"].lfs.sha256 == hashlib.sha256(BIG).hexdigest()
    assert top["README.md"].lfs is None and top["README.md"].xet_hash is None
    everything = {e.path for e in api.list_repo_tree(GGUF_REPO, recursive=True)}
    assert everything == set(top) | {"extra/config.json", "extra/deep", "extra/deep/notes.txt"}
    sub = list(api.list_repo_tree(GGUF_REPO, path_in_repo="extra/deep", revision=SHA, expand=True))
    assert [e.path for e in sub] == ["extra/deep/notes.txt"] and sub[0].last_commit.oid == SHA
    # Seven entries in pages of two: the client followed the Link header three times.
    pages = [r for r in hub.requests if "/tree/main" in r.path and r.query.get("recursive") == ["true"]]
    assert len(pages) == 4 and [p.query.get("cursor") for p in pages] == [None, ["2"], ["4"], ["6"]]
    with pytest.raises(RemoteEntryNotFoundError):
        list(api.list_repo_tree(GGUF_REPO, path_in_repo="nope"))


def test_paths_info(hub):
    found = HfApi().get_paths_info(GGUF_REPO, ["extra", "small.Q8_0.gguf", "missing.bin"])
    assert [(type(e).__name__, e.path) for e in found] == [("RepoFolder", "extra"),
                                                           ("RepoFile", "small.Q8_0.gguf")]
    assert found[1].lfs.sha256 == hashlib.sha256(SMALL).hexdigest()


def test_file_metadata_gives_etag_size_and_commit(hub):
    lfs = get_hf_file_metadata(hf_hub_url(GGUF_REPO, "tiny.Q4_K_M.gguf"))
    assert lfs.etag == hashlib.sha256(BIG).hexdigest()  # X-Linked-Etag: the LFS sha256
    assert lfs.size == len(BIG) and lfs.commit_hash == SHA and lfs.xet_file_data is None
    plain = get_hf_file_metadata(hf_hub_url(GGUF_REPO, "README.md"))
    assert plain.etag == hub.file(GGUF_REPO, "README.md").oid  # ETag: the git blob id
    assert plain.size == len("# tiny\n")
    status, headers, _ = _raw(hub, "HEAD", f"/{GGUF_REPO}/resolve/main/tiny.Q4_K_M.gguf")
    assert status == 200 and headers["accept-ranges"] == "bytes" and headers["x-linked-size"] == str(len(BIG))
    assert not [h for h in headers if h.startswith("x-xet")], "no Xet headers: the client must not try Xet"


# -- downloads ----------------------------------------------------------------------------------


def test_hf_hub_download_to_local_dir_and_to_cache(hub, tmp_path):
    path = hf_hub_download(GGUF_REPO, "extra/config.json", local_dir=tmp_path / "models")
    assert Path(path) == tmp_path / "models" / "extra" / "config.json"
    assert Path(path).read_bytes() == b'{"a": 1}'
    assert [(r.method, r.range) for r in hub.requests] == [("HEAD", None), ("GET", None)]
    cached = hf_hub_download(GGUF_REPO, "small.Q8_0.gguf")
    assert Path(cached).is_relative_to(tmp_path / "hf_home" / "hub")  # never the user's real cache
    assert Path(cached).read_bytes() == SMALL
    # Second call: a HEAD to check the etag, no GET.
    hub.clear_requests()
    assert hf_hub_download(GGUF_REPO, "extra/config.json", local_dir=tmp_path / "models") == path
    assert [r.method for r in hub.requests] == ["HEAD"]


def test_snapshot_download_uses_repo_info_and_tree(hub, tmp_path):
    folder = Path(snapshot_download(ONNX_REPO, local_dir=tmp_path / "onnx"))
    assert (folder / "model.onnx").read_bytes() == b"onnx" * 100
    assert (folder / "model.onnx.data").read_bytes() == b"\0" * 5000
    paths = {r.path.split("?")[0] for r in hub.requests}
    assert f"/api/models/{ONNX_REPO}/revision/main" in paths
    assert any("/tree/" in p for p in paths)


def test_lfs_redirect_to_cdn_is_not_followed_by_head_and_drops_authorization(make_hub, tmp_path):
    hub = make_hub(lfs_redirect=True)
    hub.grant_access(GATED_REPO, "alice")
    meta = get_hf_file_metadata(hf_hub_url(GATED_REPO, "gated.gguf"), token="hf_good")
    assert meta.location.startswith(hub.cdn_url) and meta.size == len(SMALL)
    assert meta.etag == hashlib.sha256(SMALL).hexdigest()
    path = hf_hub_download(GATED_REPO, "gated.gguf", local_dir=tmp_path / "m", token="hf_good")
    assert Path(path).read_bytes() == SMALL
    log = [(r.origin, r.method, r.status, r.authorization) for r in hub.requests]
    assert log == [("hub", "HEAD", 302, True), ("hub", "HEAD", 302, True), ("cdn", "GET", 200, False)]
    # Small files are not LFS and never leave the Hub.
    hf_hub_download(GATED_REPO, "README.md", local_dir=tmp_path / "m", token="hf_good")
    assert hub.requests[-1].origin == "hub" and hub.requests[-1].status == 200


def test_range_requests(hub):
    url = f"/{GGUF_REPO}/resolve/main/small.Q8_0.gguf"
    status, headers, body = _raw(hub, "GET", url, {"Range": "bytes=1000-"})
    assert status == 206 and body == SMALL[1000:]
    assert headers["content-range"] == f"bytes 1000-{len(SMALL) - 1}/{len(SMALL)}"
    assert headers["content-length"] == str(len(SMALL) - 1000)
    assert _raw(hub, "GET", url, {"Range": "bytes=10-19"})[2] == SMALL[10:20]
    assert _raw(hub, "GET", url, {"Range": "bytes=-5"})[2] == SMALL[-5:]
    status, headers, _ = _raw(hub, "GET", url, {"Range": f"bytes={len(SMALL)}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(SMALL)}"
    assert hub.requests[0].range == "bytes=1000-"


# -- faults -------------------------------------------------------------------------------------


def test_dropped_connection_resumes_with_range_within_the_same_call(hub, tmp_path, sleeps):
    fault = hub.drop_after("tiny.Q4_K_M.gguf", 11 * MiB)
    path = hf_hub_download(GGUF_REPO, "tiny.Q4_K_M.gguf", local_dir=tmp_path / "m")
    assert Path(path).read_bytes() == BIG and fault.hits == 1
    gets = hub.requests_for("tiny.Q4_K_M.gguf", "GET")
    # The 1 MiB after the first full 10 MiB chunk was received but discarded, so it resumes at 10 MiB.
    assert [(g.range, g.status) for g in gets] == [(None, 200), (f"bytes={10 * MiB}-", 206)]
    assert sleeps == [1]


def test_dropped_small_file_is_fetched_again_from_the_start(hub, tmp_path, sleeps):
    hub.drop_after("small.Q8_0.gguf", 100_000)
    path = hf_hub_download(GGUF_REPO, "small.Q8_0.gguf", local_dir=tmp_path / "m")
    assert Path(path).read_bytes() == SMALL
    assert [g.range for g in hub.requests_for("small.Q8_0.gguf", "GET")] == [None, None]


def test_no_resume_across_calls_when_retries_run_out(hub, tmp_path, sleeps):
    hub.drop_after("tiny.Q4_K_M.gguf", 0, times=None)  # headers, then nothing: no progress ever
    with pytest.raises(httpx2.RemoteProtocolError):
        hf_hub_download(GGUF_REPO, "tiny.Q4_K_M.gguf", local_dir=tmp_path / "m")
    assert len(hub.requests_for("tiny.Q4_K_M.gguf", "GET")) == 6 and sleeps == [1] * 5
    assert not list((tmp_path / "m").rglob("*.incomplete")), "the partial file is deleted"
    hub.clear_faults()
    hub.clear_requests()
    hf_hub_download(GGUF_REPO, "tiny.Q4_K_M.gguf", local_dir=tmp_path / "m")
    assert [g.range for g in hub.requests_for("tiny.Q4_K_M.gguf", "GET")] == [None]


def test_5xx_on_download_get_is_not_retried(hub, tmp_path, sleeps):
    hub.fail_with("small.Q8_0.gguf", 500, method="GET")
    with pytest.raises(HfHubHTTPError) as raised:
        hf_hub_download(GGUF_REPO, "small.Q8_0.gguf", local_dir=tmp_path / "m")
    assert raised.value.response.status_code == 500 and sleeps == []
    assert len(hub.requests_for("small.Q8_0.gguf", "GET")) == 1
    # The fault was used up: the next call works.
    assert Path(hf_hub_download(GGUF_REPO, "small.Q8_0.gguf", local_dir=tmp_path / "m")).read_bytes() == SMALL


def test_5xx_on_metadata_head_is_retried(hub, tmp_path, sleeps):
    hub.fail_with("small.Q8_0.gguf", 502, times=2, method="HEAD")
    path = hf_hub_download(GGUF_REPO, "small.Q8_0.gguf", local_dir=tmp_path / "m")
    assert Path(path).read_bytes() == SMALL
    heads = [r.status for r in hub.requests_for("small.Q8_0.gguf", "HEAD")]
    assert heads == [502, 502, 200] and sleeps == [1]


def test_5xx_on_metadata_head_every_time_gives_local_entry_not_found(hub, tmp_path, sleeps):
    hub.fail_with("small.Q8_0.gguf", 503, times=None)
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download(GGUF_REPO, "small.Q8_0.gguf", local_dir=tmp_path / "m")
    assert len(hub.requests_for("small.Q8_0.gguf", "HEAD")) == 7
    assert sleeps == [1, 2, 4, 8, 8]


def test_5xx_on_api_model_info_raises_and_search_retries(hub, sleeps):
    hub.fail_with("/api/models", 503, times=1)
    with pytest.raises(HfHubHTTPError) as raised:
        HfApi().model_info(GGUF_REPO)
    assert raised.value.response.status_code == 503
    hub.fail_with("/api/models", 503, times=1)
    assert len(list(HfApi().list_models(search="tiny"))) == 2
    assert sleeps == [1]


def test_truncated_lfs_file_fails_the_size_check(hub, tmp_path):
    hub.truncate("small.Q8_0.gguf", 1000)
    meta = get_hf_file_metadata(hf_hub_url(GGUF_REPO, "small.Q8_0.gguf"))
    assert meta.size == len(SMALL)  # X-Linked-Size is still the truth
    with pytest.raises(OSError, match="Consistency check failed"):
        hf_hub_download(GGUF_REPO, "small.Q8_0.gguf", local_dir=tmp_path / "m")
    status, headers, body = _raw(hub, "GET", f"/{GGUF_REPO}/resolve/main/small.Q8_0.gguf")
    assert status == 200 and body == SMALL[:1000] and headers["content-length"] == "1000"


def test_truncated_plain_file_goes_unnoticed(hub, tmp_path):
    # Without X-Linked-Size the client trusts Content-Length: the app has to check sizes itself.
    hub.truncate("extra/config.json", 3)
    path = hf_hub_download(GGUF_REPO, "extra/config.json", local_dir=tmp_path / "m")
    assert Path(path).read_bytes() == b'{"a'


def test_corrupt_byte_is_not_detected_by_the_client(hub, tmp_path):
    hub.corrupt("tiny.Q4_K_M.gguf", offset=5 * MiB)
    path = hf_hub_download(GGUF_REPO, "tiny.Q4_K_M.gguf", local_dir=tmp_path / "m")
    advertised = {s.rfilename: s for s in HfApi().model_info(GGUF_REPO, files_metadata=True).siblings}
    assert Path(path).stat().st_size == len(BIG)
    assert _sha256(path) != advertised["tiny.Q4_K_M.gguf"].lfs.sha256 == hashlib.sha256(BIG).hexdigest()
    hub.clear_faults()
    assert _raw(hub, "GET", f"/{GGUF_REPO}/resolve/main/small.Q8_0.gguf")[2] == SMALL


def test_slow_transfer_is_paced_and_can_be_abandoned(hub):
    hub.slow("small.Q8_0.gguf", bytes_per_second=1_000_000)
    started = time.monotonic()
    assert _raw(hub, "GET", f"/{GGUF_REPO}/resolve/main/small.Q8_0.gguf")[2] == SMALL
    assert 0.25 <= time.monotonic() - started < 3
    # A client that walks away mid-file: the server notices and stays healthy.
    hub.slow("tiny.Q4_K_M.gguf", bytes_per_second=200_000)
    url = hf_hub_url(GGUF_REPO, "tiny.Q4_K_M.gguf")
    with httpx2.Client() as client, client.stream("GET", url) as response:
        assert response.status_code == 200 and response.headers["content-length"] == str(len(BIG))
        first = next(response.iter_raw())
        assert 0 < len(first) < len(BIG)
    assert _raw(hub, "GET", f"/{GGUF_REPO}/resolve/main/README.md")[2] == b"# tiny\n"


def test_stop_interrupts_a_slow_transfer(make_hub):
    hub = make_hub()
    hub.slow("tiny.Q4_K_M.gguf", bytes_per_second=10_000)
    url = hf_hub_url(GGUF_REPO, "tiny.Q4_K_M.gguf")
    with httpx2.Client() as client, client.stream("GET", url) as response:
        chunks = response.iter_raw()
        next(chunks)
        started = time.monotonic()
        hub.stop()
        assert time.monotonic() - started < 5  # the transfer alone would take minutes
        with pytest.raises(httpx2.RemoteProtocolError):
            for _ in chunks:
                pass


# -- auth ---------------------------------------------------------------------------------------


def test_gated_repo(hub, tmp_path):
    # Gated repos are public to look at; only the files are behind the gate.
    assert HfApi().model_info(GATED_REPO).gated == "manual"
    with pytest.raises(GatedRepoError) as anonymous:
        hf_hub_download(GATED_REPO, "gated.gguf", local_dir=tmp_path / "m")
    assert anonymous.value.response.status_code == 401
    with pytest.raises(GatedRepoError) as not_accepted:
        hf_hub_download(GATED_REPO, "gated.gguf", local_dir=tmp_path / "m", token="hf_bob")
    assert not_accepted.value.response.status_code == 403
    assert "not in the authorized list" in str(not_accepted.value)
    hub.grant_access(GATED_REPO, "bob")
    path = hf_hub_download(GATED_REPO, "gated.gguf", local_dir=tmp_path / "m", token="hf_bob")
    assert Path(path).read_bytes() == SMALL
    assert hub.requests[-1].token == "hf_bob"


def test_bad_token_is_refused_everywhere(hub, tmp_path):
    with pytest.raises(HfHubHTTPError) as raised:
        hf_hub_download(GGUF_REPO, "README.md", local_dir=tmp_path / "m", token="hf_bad")
    # Not RepositoryNotFoundError: the client recognises the Hub's "Invalid credentials" message.
    assert type(raised.value) is HfHubHTTPError and raised.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError, match="Invalid user token"):
        HfApi().whoami(token="hf_bad")
    with pytest.raises(HfHubHTTPError) as info:
        HfApi(token="hf_bad").model_info(GGUF_REPO)
    assert type(info.value) is HfHubHTTPError
    assert HfApi().whoami(token="hf_good")["name"] == "alice"


def test_private_repo(hub, tmp_path):
    with pytest.raises(RepositoryNotFoundError) as anonymous:
        HfApi().model_info(PRIVATE_REPO)
    assert anonymous.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError) as stranger:
        hf_hub_download(PRIVATE_REPO, "secret.gguf", local_dir=tmp_path / "m", token="hf_bob")
    assert stranger.value.response.status_code == 404
    assert HfApi(token="hf_good").model_info(PRIVATE_REPO).private is True
    assert hf_hub_download(PRIVATE_REPO, "secret.gguf", local_dir=tmp_path / "m", token="hf_good")
    assert PRIVATE_REPO not in {m.id for m in HfApi().list_models(filter="gguf")}
    assert PRIVATE_REPO in {m.id for m in HfApi(token="hf_good").list_models(filter="gguf")}


def test_missing_repo_revision_and_file(hub, tmp_path):
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("nobody/nothing", "x.gguf", local_dir=tmp_path / "m")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(GGUF_REPO, "README.md", revision="v9", local_dir=tmp_path / "m")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(GGUF_REPO, "missing.gguf", local_dir=tmp_path / "m")
    with pytest.raises(RevisionNotFoundError):
        HfApi().model_info(GGUF_REPO, revision="v9")


# -- search -------------------------------------------------------------------------------------


def test_search_with_filter_search_author_sort_and_limit(make_hub):
    hub = make_hub(search_page_size=1)
    api = HfApi()
    assert {m.id for m in api.list_models(filter="gguf")} == {GGUF_REPO, GATED_REPO}
    assert {m.id for m in api.list_models(filter="onnx")} == {ONNX_REPO}
    assert {m.id for m in api.list_models(search="TINY")} == {GGUF_REPO, ONNX_REPO}
    assert {m.id for m in api.list_models(search="tiny", filter=["gguf", "text-generation"])} == {GGUF_REPO}
    assert [m.id for m in api.list_models(author="meta")] == [GATED_REPO]
    assert [m.id for m in api.list_models(sort="downloads", limit=2)] == [ONNX_REPO, GGUF_REPO]
    full = next(iter(api.list_models(search="tiny-GGUF", full=True, cardData=True)))
    assert full.sha == SHA and full.card_data.license == "apache-2.0"
    assert {s.rfilename for s in full.siblings} >= {"tiny.Q4_K_M.gguf"}
    expanded = next(iter(api.list_models(search="tiny-GGUF", expand=["gguf", "downloads"])))
    assert expanded.gguf["context_length"] == 8192 and expanded.tags is None
    # Pages of one entry: every result after the first came through a Link header.
    assert any(r.query.get("cursor") == ["1"] for r in hub.requests)


# -- store and lifecycle ------------------------------------------------------------------------


def test_update_repo_moves_main_and_keeps_the_old_commit(hub, tmp_path):
    new_sha = hub.update_repo(GGUF_REPO, {"README.md": "# v2\n"})
    assert HfApi().model_info(GGUF_REPO).sha == new_sha != SHA
    assert [s.rfilename for s in HfApi().model_info(GGUF_REPO).siblings] == ["README.md"]
    old = hf_hub_download(GGUF_REPO, "README.md", revision=SHA, cache_dir=tmp_path / "c")
    new = hf_hub_download(GGUF_REPO, "README.md", cache_dir=tmp_path / "c")
    assert Path(old).read_text() == "# tiny\n" and Path(new).read_text() == "# v2\n"


def test_stop_is_idempotent_and_closes_kept_alive_connections():
    server = HubServer()
    server.add_repo("a/b", {"f.txt": "x"})
    with pytest.raises(RuntimeError), server:
        conn = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=5)
        conn.sendall(b"GET /a/b/resolve/main/f.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b"\r\n\r\nx"):
            answer += conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        raise RuntimeError("a failing test body")
    # The keep-alive connection was closed by stop(), and the port no longer listens.
    assert conn.recv(4096) == b""
    conn.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=1).close()
    server.stop()
    with contextlib.suppress(Exception):
        server.stop()

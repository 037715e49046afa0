"""The library's registry, imports, discovery, tokens, and the `edgechat models` commands."""

import json
import os
import subprocess
import sys

import keyring
import pytest

from desktop.models import tokens
from desktop.models.library import Library, LibraryError
from tests.helpers.memory_keyring import MemoryKeyring
from tests.hubserver import HubServer


def test_token_lives_only_in_the_keyring(memory_keyring, tmp_path):
    assert tokens.status().available and tokens.get_token() is None
    tokens.set_token("hf_abcdefghijklmnop")
    assert memory_keyring.store == {(tokens.SERVICE, tokens.USERNAME): "hf_abcdefghijklmnop"}
    assert tokens.get_token() == "hf_abcdefghijklmnop"
    assert tokens.scrub("failed with hf_abcdefghijklmnop") == "failed with hf_***"
    with pytest.raises(tokens.TokenStoreError, match="start with 'hf_'"):
        tokens.set_token("not a token")
    tokens.clear_token()
    assert tokens.get_token() is None


def test_no_keyring_means_no_token_and_says_how_to_get_one():
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        state = tokens.status()
        assert not state.available and "Secret Service" in state.message
        with pytest.raises(tokens.TokenStoreError, match="never writes tokens in plain text"):
            tokens.set_token("hf_abcdefghijklmnop")
        assert tokens.get_token() is None
    finally:
        keyring.set_keyring(previous)


def test_plaintext_keyrings_are_refused(memory_keyring):
    class PlaintextKeyring(MemoryKeyring):
        pass

    keyring.set_keyring(PlaintextKeyring())
    assert not tokens.status().available


def test_import_validates_and_does_not_copy(tmp_path, model_path, onnx_model, not_gguf):
    library = Library(tmp_path / "models")
    gguf = library.import_path(model_path)
    onnx = library.import_path(onnx_model / "genai_config.json")
    assert (gguf.format, gguf.path) == ("gguf", str(model_path.resolve()))
    assert (onnx.format, onnx.path) == ("onnx", str(onnx_model.resolve()))
    assert library.import_path(model_path).id == gguf.id  # no duplicates
    with pytest.raises(Exception, match="not a GGUF"):
        library.import_path(not_gguf)
    again = Library(tmp_path / "models")  # persisted
    assert {m.id for m in again.models()} == {gguf.id, onnx.id}
    again.remove(gguf.id)  # imported: unlisted, the user's file stays
    assert model_path.exists() and again.get(gguf.id) is None
    with pytest.raises(LibraryError):
        again.remove("nope")


def test_discover_finds_other_apps_models_without_copying(tmp_path, model_path, onnx_model):
    hf = tmp_path / "hf" / "models--acme--x" / "snapshots" / "abc"
    hf.mkdir(parents=True)
    (hf / "x.Q4.gguf").symlink_to(model_path)
    lmstudio = tmp_path / "lmstudio" / "acme" / "y"
    lmstudio.mkdir(parents=True)
    os.symlink(onnx_model, lmstudio / "onnx-folder")
    library = Library(tmp_path / "models")
    found = library.discover([tmp_path / "hf", tmp_path / "lmstudio", tmp_path / "missing"])
    assert {(fmt, p.name) for fmt, p in found} == {
        ("gguf", model_path.name), ("onnx", onnx_model.name)}


def test_damaged_registry_is_kept_aside(tmp_path):
    from desktop import notices

    notices.drain()
    root = tmp_path / "models"
    root.mkdir()
    (root / "library.json").write_text("{broken")
    assert Library(root).models() == []  # the list starts again; models on disk can be found again
    kept = list(root.glob("library.json.damaged-*"))
    assert [p.read_text() for p in kept] == ["{broken"]
    assert [m for m in notices.drain() if str(kept[0]) in m]


def edgechat(*args, env=None):
    full = dict(os.environ, QT_QPA_PLATFORM="offscreen", **(env or {}))
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          timeout=120, env=full)


def test_models_cli_end_to_end(tmp_path, model_path):
    server = HubServer()
    server.add_repo("acme/SmolLM2-GGUF", {"smol.Q4_1.gguf": model_path.read_bytes()}, tags=["gguf"])
    env = {"HF_ENDPOINT": "", "EDGECHAT_DATA_DIR": str(tmp_path / "data"),
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1", "HF_HUB_OFFLINE": "0"}
    with server:
        env["HF_ENDPOINT"] = server.url
        result = edgechat("models", "download", "--repo", "acme/SmolLM2-GGUF", "--file",
                          "smol.Q4_1.gguf", env=env)
        assert result.returncode == 0, result.stderr
        assert "Installed and verified" in result.stdout
        server.corrupt("smol.Q4_1.gguf", 5000)
        result = edgechat("models", "download", "--repo", "acme/SmolLM2-GGUF", "--file",
                          "smol.Q4_1.gguf", env=env)
        assert result.returncode == 0 and "Already installed" in result.stdout
        bad = edgechat("models", "download", "--repo", "acme/nope", "--file", "x.gguf", env=env)
        assert bad.returncode == 1 and "not found" in bad.stderr and "Traceback" not in bad.stderr
        # A catalog model by id: the repo and file come from the catalog; the bytes served here
        # differ from the catalog's sha256, so the Hub's own checksum is what gets verified.
        server.add_repo("bartowski/SmolLM2-135M-Instruct-GGUF",
                        {"SmolLM2-135M-Instruct-Q4_K_M.gguf": model_path.read_bytes()}, tags=["gguf"])
        by_id = edgechat("models", "download", "smollm2-135m-instruct", env=env)
        assert by_id.returncode == 0, by_id.stderr
        assert "differs from the catalog" in by_id.stdout and "Installed and verified" in by_id.stdout
        assert edgechat("models", "remove", "gguf-smollm2-135m-instruct-q4_k_m", env=env).returncode == 0
    listing = json.loads(edgechat("models", "list", "--json", env=env).stdout)
    (installed,) = listing["installed"]
    assert installed["format"] == "gguf" and installed["verified"]["smol.Q4_1.gguf"].startswith("sha256:")
    assert len(listing["catalog"]) >= 15 and listing["skipped_catalog_entries"] == []
    assert {row["fit"] for row in listing["catalog"]} >= {"cpu"}
    answer = edgechat("ask", "Hi", "--model", installed["path"], "--max-tokens", "4", "--json", env=env)
    assert answer.returncode == 0 and json.loads(answer.stdout)["completion_tokens"] > 0
    removed = edgechat("models", "remove", installed["id"], env=env)
    assert removed.returncode == 0 and not os.path.exists(installed["path"])
    hardware = json.loads(edgechat("hardware", "--json", env=env).stdout)
    assert hardware["ram_total"] > 0 and "cpu" in hardware["onnx_providers"]

"""``edgechat ask``: the headless path through the same engine, as a user runs it."""

import json
import os
import signal
import subprocess
import sys

import pytest


def edgechat(*args, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def test_ask_json():
    result = edgechat("ask", "What is 2+2?", "--max-tokens", "16", "--temperature", "0",
                      "--threads", "2", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert set(out) >= {"text", "prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s",
                        "backend", "device", "model"}
    assert out["text"].strip()
    assert out["backend"] == "llama.cpp" and out["device"] == "CPU"
    assert out["model"] == "SmolLM2-135M-Instruct"
    assert 0 < out["completion_tokens"] <= 16 and out["prompt_tokens"] > 5
    assert out["ttft_s"] > 0 and out["tokens_per_s"] > 0


def test_ask_streams_plain_text():
    result = edgechat("ask", "Say hello.", "--max-tokens", "12", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert not result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize("fixture, message", [
    ("not_gguf", "not a GGUF model file"),
    ("truncated_gguf", "truncated"),
    ("unknown_arch_gguf", "could not load"),
])
def test_bad_model_is_a_clear_error(request, fixture, message):
    path = request.getfixturevalue(fixture)
    result = edgechat("ask", "hi", "--model", str(path))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_usage_errors():
    result = edgechat("ask", "hi", "--max-tokens", "zero")
    assert result.returncode == 2 and "not a whole number" in result.stderr
    result = edgechat("ask", "hi", "--model", "/no/such/model.gguf")
    assert result.returncode == 1 and "model not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_self_test_from_source():
    result = edgechat("--self-test", "--json", timeout=300)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0 and report["ok"], report
    assert report["frozen"] is False and len(report["checks"]) == 9
    assert "api server" in [c["name"] for c in report["checks"]]


def test_ask_on_a_crafted_gguf_ends_with_a_message(tmp_path):
    """general.alignment stored as text made the reader raise TypeError on the worker thread,
    and `edgechat ask` waited for ever for a load that never ended."""
    from tests.test_gguf import STRING, gguf_bytes, gguf_string, kv, standard_kvs, write

    crafted = write(tmp_path, gguf_bytes(*standard_kvs(**{
        "general.alignment": kv("general.alignment", STRING, gguf_string("thirty-two"))})))
    result = edgechat("ask", "hi", "--model", str(crafted), timeout=60)
    assert result.returncode == 1
    assert "crafted.gguf" in result.stderr and "general.alignment" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_settings_file_is_said_on_the_terminal(data_dir):
    """A terminal has no banner: the notice that the model list was moved aside is printed."""
    models = data_dir / "models"
    models.mkdir(parents=True)
    (models / "library.json").write_text("{ not json", encoding="utf-8")
    result = edgechat("models", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert "library.json" in result.stderr and "damaged" in result.stderr
    assert list(models.glob("library.json.damaged-*"))
    again = edgechat("models", "list", "--json")
    assert "damaged" not in again.stderr  # moved aside once, said once


def test_ask_runs_without_qt():
    """A one-shot answer needs no event loop and no worker thread: Qt is never imported, nor the
    keyring and cipher of the prompt cache's disk tier, which a single answer never reads back."""
    code = (
        "import json, sys\n"
        "from desktop.__main__ import main\n"
        "code = main(['ask', 'Say hello.', '--max-tokens', '4', '--temperature', '0', '--json'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules}\n"
        "               & {'PySide6', 'shiboken6', 'keyring', 'cryptography'})\n"
        "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    env = dict(os.environ)
    env.pop("EDGECHAT_PROMPT_CACHE_MB", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "heavy": []}, result.stderr
    assert json.loads(result.stdout)["completion_tokens"] > 0


def test_ctrl_c_stops_the_answer():
    """SIGINT while the reply streams ends it as the Stop button does: what was written stays,
    a line says it was stopped, and the exit code is 130 (128 + SIGINT), as shells expect."""
    from tests.conftest import LONG_PROMPT

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "ask", LONG_PROMPT, "--max-tokens", "4000",
                             "--temperature", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    try:
        first = proc.stdout.read(1)  # the first piece of the answer: the model is generating
        assert first, proc.stderr.read().decode()
        proc.send_signal(signal.SIGINT)
        # Generous: stopping takes one token's time; this holds on a loaded two-core machine.
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode == 130, err
    assert "stopped" in err and "Traceback" not in err
    assert (first + out).decode().strip()  # what was written before the stop is kept

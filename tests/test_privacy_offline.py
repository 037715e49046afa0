"""Private by construction and provably offline.

The proof runs the real programs, each in a fresh HOME: ``edgechat ask`` on the GGUF and on the
ONNX copy of the default model, ``edgechat serve`` with one request from a client, and a
scripted window chat. Under strace, no connection goes anywhere but loopback and no name is
looked up; no telemetry store appears under HOME; and where a network namespace can be made,
the same flows pass with no network at all. Then the Work offline switch: Hub search and
downloads refuse, servers on other computers are refused while this computer's keep working,
and the window shows it.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import privacy

ROOT = Path(__file__).resolve().parent.parent
HELPERS = ROOT / "tests" / "helpers"
PYTHON = sys.executable
ASK = [PYTHON, "-m", "desktop", "ask", "--max-tokens", "4", "--temperature", "0"]
# Variables that could hide what the app does by itself (a switch set outside it) or point it
# somewhere: the flows start without any of them.
_CLEARED = ("EDGECHAT_", "HF_", "HUGGINGFACE_", "TRANSFORMERS_", "ORT_", "DO_NOT_TRACK", "DISABLE_TELEMETRY",
            "XDG_", "QT_", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
# Sockets of name services that resolve host names (nscd also answers for hosts, and a failed
# connect does not say which database was asked).
_RESOLVER_SOCKETS = ("nscd", "/systemd/resolve")


def fresh_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}
    runtime = home / "run"
    for sub in (".config", ".cache", ".local/share", ".local/state", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env.update({
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"), "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_RUNTIME_DIR": str(runtime), "EDGECHAT_DATA_DIR": str(home / "data"),
        "QT_QPA_PLATFORM": "offscreen",
        # A desktop session names its user: without USER, getpass asks the passwd database, which
        # goes through nscd's socket and could not be told apart from a host name look-up.
        "USER": "edgechat-test", "LOGNAME": "edgechat-test",
    })
    return env


def flows(onnx: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    return {
        "ask-gguf": (ASK + ["Hi"], {}),
        "ask-onnx": (ASK + ["--model", str(onnx), "Hi"], {}),
        "serve-onnx": ([PYTHON, str(HELPERS / "serve_once.py"), str(onnx)], {}),
        # The window sends the prompt as soon as the model is loaded and closes after the first
        # token (bench/startup.py's probe).
        "window": ([PYTHON, "-m", "desktop"], {"EDGECHAT_STARTUP_PROBE": "Hi"}),
    }


FLOWS = ("ask-gguf", "ask-onnx", "serve-onnx", "window")


def run_flow(name: str, onnx: Path, home: Path, prefix: list[str]) -> subprocess.CompletedProcess:
    cmd, extra = flows(onnx)[name]
    env = fresh_env(home) | extra
    return subprocess.run(prefix + cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def telemetry_stores(home: Path) -> list[str]:
    """What ONNX Runtime's telemetry leaves (its deviceid and event queues), wherever it is."""
    found = []
    for path in home.rglob("*"):
        name = path.name.lower()
        if (name in (".onnxruntime", "deviceid", "microsoft") or (name.startswith("onnxruntime")
                                                                    and name.endswith(".db"))):
            found.append(str(path.relative_to(home)))
    return found


# -- reading strace ----------------------------------------------------------------------------
_SOCKADDR = re.compile(r"\{sa_family=(AF_\w+)([^{}]*)\}")


def network_violations(trace: str) -> tuple[list[str], int]:
    """(what left, or tried to leave, the machine; how many loopback connections were seen)."""
    bad, loopback = [], 0
    for line in trace.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        for family, fields in _SOCKADDR.findall(line):
            port = re.search(r"_port=htons\((\d+)\)", fields)
            if port and int(port.group(1)) == 53:
                bad.append(f"DNS: {line.strip()}")
                continue
            if family in ("AF_INET", "AF_INET6"):
                host = re.search(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', fields)
                address = ipaddress.ip_address(next(g for g in host.groups() if g)) if host else None
                mapped = getattr(address, "ipv4_mapped", None)
                if address is None or not (address.is_loopback or (mapped and mapped.is_loopback)):
                    bad.append(line.strip())
                elif "connect(" in line:
                    loopback += 1
            elif family == "AF_UNIX":
                path = re.search(r'sun_path=@?"([^"]*)"', fields)
                if path and any(s in path.group(1) for s in _RESOLVER_SOCKETS):
                    bad.append(f"name service: {line.strip()}")
    return bad, loopback


def test_the_trace_reader_sees_what_leaves():
    trace = "\n".join([
        '1 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("13.69.109.131")}, 16) = 0',
        '1 sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("127.0.0.53")}, 16) = 1',
        '1 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '1 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2a01:111::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '1 sendmsg(7, {msg_name={sa_family=AF_INET, sin_port=htons(123), sin_addr=inet_addr("10.0.0.1")}, '
        'msg_namelen=16}, 0) = 48',
        # allowed: loopback, local sockets, the kernel
        '1 connect(8, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '1 connect(9, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '1 connect(10, {sa_family=AF_UNIX, sun_path="/run/user/0/bus"}, 110) = 0',
        '1 sendto(11, "x", 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20',
        '1 sendto(12, "{sa_family=AF_INET", 9, 0, NULL, 0) = 9',
    ])
    bad, loopback = network_violations(trace)
    assert len(bad) == 5, bad
    assert loopback == 2


# -- the flows, traced -------------------------------------------------------------------------
@functools.cache
def _strace() -> tuple[list[str] | None, str]:
    """The strace command to prefix, or None and why not."""
    strace = shutil.which("strace")
    if not strace:
        return None, "strace is not installed (.ci/run installs it)"
    plain = [strace, "-f", "-qq", "-e", "signal=none", "-e", "trace=connect,sendto,sendmsg"]
    # Stopping only at the traced calls (strace 5.3+) keeps the flows at their usual speed.
    for command in (plain[:1] + ["--seccomp-bpf"] + plain[1:], plain):
        if subprocess.run(command + ["-o", os.devnull, "true"], capture_output=True,
                          timeout=60).returncode == 0:
            return command, ""
    return None, "strace cannot trace here (ptrace is not allowed)"


@pytest.fixture(scope="module")
def traced(onnx_model, tmp_path_factory):
    """Each flow run once, under strace when it is installed, in its own fresh HOME."""
    strace, _ = _strace()
    results = {}

    def get(name: str):
        if name not in results:
            home = tmp_path_factory.mktemp(f"home-{name}")
            log = home.parent / f"{home.name}.strace"
            prefix = strace + ["-o", str(log)] if strace else []
            out = run_flow(name, onnx_model, home, prefix)
            trace = log.read_text(errors="replace") if strace and log.exists() else None
            results[name] = (out, home, trace)
        return results[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("flow", FLOWS)
def test_flow_works_and_keeps_no_telemetry_store(traced, flow):
    out, home, _ = traced(flow)
    assert out.returncode == 0, f"{flow} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    if flow == "window":
        assert '"event": "first_token"' in out.stdout  # the chat really ran
    else:
        assert out.stdout.strip(), "no reply"
    assert (home / "data").is_dir()  # the app wrote where it was told to, under this HOME
    assert telemetry_stores(home) == []


@pytest.mark.slow
@pytest.mark.parametrize("flow", FLOWS)
def test_flow_connects_to_nothing_but_loopback_and_looks_up_no_name(traced, flow):
    strace, why_not = _strace()
    if strace is None:
        pytest.skip(why_not)
    out, _, trace = traced(flow)
    assert out.returncode == 0, out.stderr[-4000:]
    assert trace is not None
    bad, loopback = network_violations(trace)
    assert bad == []
    if flow == "serve-onnx":
        assert loopback >= 1  # the client's connection was seen: the trace covers the flow


def _netns_prefix() -> list[str] | None:
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    for flags in ("-rn", "-n"):
        try:
            ok = subprocess.run([unshare, flags, "true"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return [unshare, flags, PYTHON, str(HELPERS / "netless.py")]
    return None


@pytest.mark.slow
@pytest.mark.parametrize("flow", FLOWS)
def test_flow_works_with_no_network_at_all(onnx_model, tmp_path, flow):
    prefix = _netns_prefix()
    if prefix is None:
        pytest.skip("no network namespace can be made here (unshare -n)")
    out = run_flow(flow, onnx_model, tmp_path / "home", prefix)
    assert out.returncode == 0, f"{flow} failed with no network:\n{out.stderr[-4000:]}"
    assert telemetry_stores(tmp_path / "home") == []


# -- telemetry switches ------------------------------------------------------------------------
def test_telemetry_switches_are_forced_over_the_environment(monkeypatch):
    monkeypatch.setenv("ORT_DISABLE_TELEMETRY", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "0")
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    privacy.harden_environment()
    for name in ("ORT_DISABLE_TELEMETRY", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK",
                 "HF_HUB_DISABLE_IMPLICIT_TOKEN"):
        assert os.environ[name] == "1"


# -- Work offline ------------------------------------------------------------------------------
@pytest.fixture
def work_offline(monkeypatch):
    """Work offline on for one test and off after: the switch is the whole process's."""
    monkeypatch.delenv("EDGECHAT_OFFLINE", raising=False)
    privacy.set_offline(True)
    yield
    os.environ.pop("EDGECHAT_OFFLINE", None)
    privacy.set_offline(False)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    from tests.hubserver import HubServer, point_huggingface_hub_at

    server = HubServer()
    server.add_repo("acme/tiny-GGUF", {"tiny.Q4_K_M.gguf": b"GGUF" + b"\0" * 4096}, tags=["gguf"])
    with server:
        point_huggingface_hub_at(server, monkeypatch, tmp_path / "hf-home")
        yield server


def test_hub_search_and_downloads_refuse_while_offline(hub, tmp_path, monkeypatch):
    from desktop.models import hub as hub_api
    from desktop.models.downloads import Downloader, plan_download
    from desktop.models.library import Library

    assert [r.repo_id for r in hub_api.search("tiny")] == ["acme/tiny-GGUF"]  # online, it works
    plan = plan_download("acme/tiny-GGUF", filename="tiny.Q4_K_M.gguf")
    asked = len(hub.requests)
    privacy.set_offline(True)
    try:
        for call in (lambda: hub_api.search("tiny"),
                     lambda: plan_download("acme/tiny-GGUF", filename="tiny.Q4_K_M.gguf"),
                     lambda: Downloader(plan, Library(tmp_path / "models")).run(),
                     lambda: hub_api.whoami("hf_x")):
            with pytest.raises(hub_api.HubError) as info:
                call()
            assert isinstance(info.value, privacy.WorkOfflineError)
            assert "Work offline is on" in str(info.value) and "Settings" in str(info.value)
        assert len(hub.requests) == asked  # nothing was even asked
        assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.part"))
        # huggingface_hub itself is offline too, whoever calls it
        from huggingface_hub import constants

        assert os.environ["HF_HUB_OFFLINE"] == "1" and constants.is_offline_mode()
    finally:
        privacy.set_offline(False)
    from huggingface_hub import constants

    assert not constants.is_offline_mode() and "HF_HUB_OFFLINE" not in os.environ
    assert hub_api.search("tiny")  # and back online


def test_servers_on_other_computers_are_refused_while_this_ones_work(faults, work_offline):
    from desktop.engines.base import SamplingParams
    from desktop.engines.remote_engine import RemoteConnectError, RemoteEngine
    from desktop.models.remotes import list_server_models

    for url in ("http://192.168.1.20:8000/v1", "https://api.example.com/v1", "http://[2001:db8::1]:80/v1"):
        with pytest.raises(RemoteConnectError, match="Work offline is on"):
            RemoteEngine(url, "m")
        with pytest.raises(RemoteConnectError, match="Work offline is on"):
            list_server_models(url)
    assert [m.id for m in list_server_models(faults.base_url)] == ["fault-model"]
    with RemoteEngine(faults.base_url.replace("127.0.0.1", "localhost"), "fault-model") as engine:
        assert "".join(engine.stream([{"role": "user", "content": "Hi"}], SamplingParams()))


def test_the_guard_refuses_any_other_connection_or_look_up(work_offline):
    with pytest.raises(privacy.OfflineBlocked):
        socket.create_connection(("192.0.2.1", 9), timeout=1)  # TEST-NET-1: never answers
    with pytest.raises(privacy.OfflineBlocked):
        socket.getaddrinfo("huggingface.co", 443)
    with pytest.raises(privacy.OfflineBlocked), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"x", ("198.51.100.7", 53))
    # this computer keeps working: a loopback server, localhost, binding every address
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5):
            pass
    socket.getaddrinfo(None, 0, flags=socket.AI_PASSIVE)


def test_offline_flag_anywhere_and_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("EDGECHAT_OFFLINE", "0")
    try:
        assert not privacy.offline()
        assert privacy.take_offline_flag(["ask", "--", "--offline"]) == ["ask", "--", "--offline"]
        assert not privacy.offline()  # after "--" it is the prompt's text
        from desktop.cli import run_cli

        code = run_cli(["models", "download", "--repo", "acme/tiny-GGUF", "--file", "a.gguf", "--offline"])
        assert code == 1
        err = capsys.readouterr().err
        assert "Work offline is on" in err and "--offline" in err
        assert privacy.offline() and privacy.forced() and os.environ["EDGECHAT_OFFLINE"] == "1"
        privacy.set_offline(False)
        assert privacy.offline()  # forced for the run: Settings cannot turn it off
    finally:
        os.environ.pop("EDGECHAT_OFFLINE", None)
        privacy.set_offline(False)
    assert not privacy.offline()


def test_offline_command_line_refuses_downloads(tmp_path):
    env = fresh_env(tmp_path / "home") | {"HF_ENDPOINT": "http://127.0.0.1:9"}
    out = subprocess.run([PYTHON, "-m", "desktop", "--offline", "models", "download", "--repo",
                          "acme/tiny-GGUF", "--file", "a.gguf"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "Work offline is on" in out.stderr


def test_settings_switch_and_the_status_bar(make_window, monkeypatch):
    from PySide6.QtCore import QSettings, QTimer

    from desktop.ui import settings_keys
    from desktop.ui.settings_dialog import SettingsDialog

    monkeypatch.delenv("EDGECHAT_OFFLINE", raising=False)
    window = make_window(load=False)
    seen = {}

    def switch() -> None:
        dialog = window.findChild(SettingsDialog)
        seen["enabled"] = dialog.offline_check.isEnabled() and not dialog.offline_check.isChecked()
        dialog.offline_check.setChecked(True)
        seen["shown"] = window.offline_label.isVisible()  # at once, while Settings is open
        dialog.reject()

    try:
        assert not window.offline_label.isVisible()
        QTimer.singleShot(0, switch)
        window.show_settings()
        assert seen == {"enabled": True, "shown": True}
        assert privacy.offline() and QSettings().value(settings_keys.OFFLINE, type=bool)
        assert window.offline_label.text() == "Offline"
        # kept: the next start is offline too, and unticking turns it off
        privacy.set_offline(False)
        second = make_window(load=False)
        assert privacy.offline() and second.offline_label.isVisible()
        dialog = SettingsDialog(second)
        dialog.offline_check.setChecked(False)
        assert not privacy.offline() and not QSettings().value(settings_keys.OFFLINE, type=bool)
        dialog.close()
    finally:
        QSettings().remove(settings_keys.OFFLINE)
        privacy.set_offline(False)


def test_forced_offline_shows_and_cannot_be_unticked(make_window, monkeypatch):
    from desktop.ui.settings_dialog import SettingsDialog

    monkeypatch.setenv("EDGECHAT_OFFLINE", "1")
    try:
        window = make_window(load=False)
        assert window.offline_label.isVisible()
        dialog = SettingsDialog(window)
        assert dialog.offline_check.isChecked() and not dialog.offline_check.isEnabled()
        assert "EDGECHAT_OFFLINE" in dialog.offline_note.text()
        dialog.close()
    finally:
        monkeypatch.delenv("EDGECHAT_OFFLINE")
        privacy.set_offline(False)

"""``edgechat serve`` on an ephemeral port, asked one question over loopback, stopped with
Ctrl+C; exit status 0 when all of that worked.

    python tests/helpers/serve_once.py MODEL

tests/test_privacy_offline.py runs it under strace and in a network namespace: the client must
run where the server runs (a namespace has its own loopback), so both are in this one command.
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit


def main(model: str) -> int:
    server = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", "0", "--ctx", "512",
                               "--model", model], stderr=subprocess.PIPE, text=True)
    try:
        line, deadline = "", time.monotonic() + 180
        while "Serving" not in line:
            line = server.stderr.readline()
            if (not line and server.poll() is not None) or time.monotonic() > deadline:
                print(f"serve did not start: {line}", file=sys.stderr)
                return 1
        url = urlsplit(line.split(" at ")[1].split()[0])
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        # The line comes once the port is bound, a moment before uvicorn listens on it.
        while True:
            try:
                conn.request("GET", "/v1/models")
                break
            except ConnectionRefusedError:
                conn.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        model_id = json.loads(conn.getresponse().read())["data"][0]["id"]
        body = json.dumps({"model": model_id, "max_tokens": 4, "temperature": 0,
                           "messages": [{"role": "user", "content": "Hi"}]})
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        reply = json.loads(response.read())
        conn.close()
        if response.status != 200 or not reply["choices"][0]["message"]["content"]:
            print(f"bad reply {response.status}: {reply}", file=sys.stderr)
            return 1
        print(reply["choices"][0]["message"]["content"])
        server.send_signal(signal.SIGINT)  # Ctrl+C: uvicorn's graceful stop
        return server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""`campaign serve` as a subprocess on free loopback ports, for tests that need the real server.

:class:`LocalStack` starts it (``--at`` fixed, ``SYSTEM_SIGNING_SECRET`` given),
waits for its "Ctrl-C stops everything" line by reading its output (no
sleeping), and keeps reading every line it prints afterwards on a thread, so a
test can look at the server's logs: :meth:`LocalStack.wait_for` polls that
output for a line, up to a timeout.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalStack:
    def __init__(self, workdir: Path, at: str, secret: str, extra_campaigns: dict[str, str] | None = None) -> None:
        self.campaigns = workdir / "campaigns"
        shutil.copytree(ROOT / "campaigns", self.campaigns)
        for name, text in (extra_campaigns or {}).items():
            (self.campaigns / name).write_text(text, encoding="utf-8")
        self.port, self.ddb_port, self.mall_port = free_port(), free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.secret = secret
        self.at = at
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        self.proc: subprocess.Popen | None = None

    def start(self) -> LocalStack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PYTHONUNBUFFERED="1", SYSTEM_SIGNING_SECRET=self.secret)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "campaign_tools.cli",
                "serve",
                "--port",
                str(self.port),
                "--dynamodb-port",
                str(self.ddb_port),
                "--mall-port",
                str(self.mall_port),
                "--at",
                self.at,
                "--campaigns",
                str(self.campaigns),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # blocks until the stack says it is up
            self.lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        else:
            raise RuntimeError("campaign serve exited early:\n" + "".join(self.lines))
        threading.Thread(target=self._drain, name="serve-output", daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self._new.put(line)

    def wait_for(self, text: str, timeout_s: float = 20.0) -> str:
        """The first line printed from now on that contains ``text`` (polls the output; never sleeps)."""
        while True:
            try:
                line = self._new.get(timeout=timeout_s)
            except queue.Empty:
                raise AssertionError(f"campaign serve printed no line with {text!r} within {timeout_s} s") from None
            if text in line:
                return line

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None):
    """``(status, headers, body text)`` of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")

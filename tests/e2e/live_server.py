"""A real `leanstock serve` process on a test's database, to kill, stop and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

# Starting a server imports the whole app; on a busy 2-core machine that takes a while.
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """`leanstock serve` on `database_url`, with the crash-test hooks on."""

    def __init__(self, database_url: str, workdir: Path, **settings: str) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"
        self._log: IO[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> LiveServer:
        env = {
            **os.environ,
            "LEANSTOCK_DATABASE_URL": self.database_url,
            "LEANSTOCK_TEST_HOOKS": "true",
            "LEANSTOCK_PUBLISHER": "false",
            **{f"LEANSTOCK_{name.upper()}": value for name, value in self.settings.items()},
        }
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leanstock.entrypoints.cli", "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            code = self.process.poll()
            assert code is None, f"the server exited with {code}: {self.log()}"
            assert time.monotonic() < deadline, f"the server did not start: {self.log()}"
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str) -> None:
        """Until the server has written `text` to its log (a hook saying where it is)."""
        deadline = time.monotonic() + START_SECONDS
        while text not in self.log():
            assert self.process is not None
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"the server never logged {text!r}: {self.log()}"
            time.sleep(0.05)

    def wait(self, timeout: float = 60) -> int:
        """The exit status, once the process has ended."""
        assert self.process is not None
        code = self.process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def kill(self) -> None:
        """SIGKILL: the process dies where it stands."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.wait()

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.wait()

"""`mentorscope ui` stops its webserver and daemon on SIGTERM (a service manager's stop)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of the process group `pgid`."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


@pytest.mark.slow
def test_sigterm_stops_webserver_and_daemon(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MENTORSCOPE_DAGSTER_STATE": str(tmp_path / "state"),
        "MENTORSCOPE_DAGSTER_LOGS": str(tmp_path / "logs"),
        "MENTORSCOPE_WAREHOUSE": str(tmp_path / "w.duckdb"),
    }
    # Its own session: the test finds everything it started by process group.
    ui = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ui", "--port", str(port),
         "--data", str(tmp_path / "export")],
        env=env, cwd=tmp_path, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert ui.poll() is None, ui.stdout.read() if ui.stdout else ""
            assert time.monotonic() < deadline, "the UI never answered"
            time.sleep(0.5)
        # dg dev runs in a group of its own, under the `mentorscope ui` process.
        children = [
            int(p) for p in Path(f"/proc/{ui.pid}/task/{ui.pid}/children").read_text().split()
        ]
        assert len(children) == 1
        dev_group = os.getpgid(children[0])
        assert len(_group(dev_group)) >= 3  # dg dev, webserver, daemon (and code servers)

        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while _group(dev_group) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(dev_group) == []
        assert not _answers(port)
        output = ui.stdout.read() if ui.stdout else ""
        assert "SupersessionWarning" not in output
    finally:
        for pgid in {ui.pid, *([dev_group] if "dev_group" in locals() else [])}:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        ui.wait()

"""The logic around lab snapshots and stage times: what keys a snapshot, how the QMP client reads its monitor,
how stage times add up. The snapshots themselves (savevm/loadvm in running guests) are exercised by every
`make test` on the lab."""
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lab"))
sys.path.insert(0, str(REPO / "tests" / "tools"))

import lab  # noqa: E402
import stage_times  # noqa: E402


@pytest.fixture
def tree(tmp_path, monkeypatch):
    for top in ("roles/r/tasks", "lab", "inventory/lab", "molecule/x", "tests/unit"):
        (tmp_path / top).mkdir(parents=True)
    (tmp_path / "roles/r/tasks/main.yml").write_text("- debug:\n")
    (tmp_path / "lab/lab.py").write_text("# lab\n")
    (tmp_path / "inventory/lab/hosts.yml").write_text("all: {}\n")
    (tmp_path / "molecule/x/test.py").write_text("# a test\n")
    (tmp_path / "galaxy.yml").write_text("name: lvs\n")
    monkeypatch.setattr(lab, "REPO", tmp_path)
    return tmp_path


def test_the_key_follows_what_the_lab_is_made_of(tree):
    key = lab.state_key()
    assert key == lab.state_key()
    (tree / "molecule/x/test.py").write_text("# another test\n")  # tests do not make the converged lab
    (tree / "tests/unit/t.py").write_text("# unit\n")
    assert lab.state_key() == key
    for changed in ("roles/r/tasks/main.yml", "lab/lab.py", "inventory/lab/hosts.yml", "galaxy.yml"):
        before = lab.state_key()
        (tree / changed).write_text((tree / changed).read_text() + "# changed\n")
        assert lab.state_key() != before, changed
    before = lab.state_key()
    (tree / "roles/r/tasks/main.yml").rename(tree / "roles/r/tasks/other.yml")  # same bytes, another name
    assert lab.state_key() != before


def fake_qemu(path: Path, replies: list[list[bytes]], received: list) -> threading.Thread:
    """A monitor socket that sends the greeting, then one canned reply (in pieces) per command it reads."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        conn.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\n')
        buf = b""
        for reply in replies:
            while b"\n" not in buf:
                buf += conn.recv(4096)
            line, buf = buf.split(b"\n", 1)
            received.append(json.loads(line))
            for piece in reply:
                conn.sendall(piece)
        conn.close()
        server.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_qmp_skips_events_and_returns_the_command_output(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "vm_dir", lambda name, lab_=None: tmp_path)
    monkeypatch.setattr(lab, "SNAPSHOT_TIMEOUT", 10)
    received = []
    fake_qemu(tmp_path / "qmp.sock", [
        [b'{"return": {}}\n'],
        # an event arrives before the answer, and the answer comes in two pieces
        [b'{"event": "STOP", "timestamp": {}}\n{"return": "Snapshot list:\\n', b'ID TAG\\n1 converged\\n"}\n'],
    ], received)
    q = lab.Qmp("lb1")
    out = q.hmp("info snapshots")
    q.close()
    assert "converged" in out
    assert received[0] == {"execute": "qmp_capabilities", "arguments": {}}
    assert received[1] == {"execute": "human-monitor-command", "arguments": {"command-line": "info snapshots"}}


def test_qmp_errors_name_the_guest_and_command(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "vm_dir", lambda name, lab_=None: tmp_path)
    monkeypatch.setattr(lab, "SNAPSHOT_TIMEOUT", 10)
    fake_qemu(tmp_path / "qmp.sock", [[b'{"return": {}}\n'],
                                      [b'{"error": {"class": "GenericError", "desc": "no snapshot"}}\n']], [])
    q = lab.Qmp("lb2")
    with pytest.raises(lab.LabError, match=r"lb2: QMP query-status: no snapshot"):
        q.command("query-status")


def test_a_snapshot_name_that_would_be_a_monitor_command_is_refused():
    with pytest.raises(lab.LabError, match="snapshot name"):
        lab.snapshot_save("converged; quit", "k")


def test_stage_times_add_up_and_a_failed_stage_fails_the_report(tmp_path, capsys):
    times = tmp_path / "t.json"
    assert stage_times.main(["start", str(times)]) == 0
    assert stage_times.main(["run", str(times), "ok", "--", sys.executable, "-c", "import time; time.sleep(0.3)"]) == 0
    assert stage_times.main(["run", str(times), "bad", "--", sys.executable, "-c", "import time; time.sleep(0.2); raise SystemExit(3)"]) == 3
    data = json.loads(times.read_text())
    assert [s["stage"] for s in data["stages"]] == ["ok", "bad"]
    assert [s["rc"] for s in data["stages"]] == [0, 3]
    assert abs(sum(s["share"] for s in data["stages"]) - 1) < 0.01
    assert data["total_seconds"] == pytest.approx(sum(s["seconds"] for s in data["stages"]), abs=0.2)
    assert stage_times.main(["report", str(times)]) == 1
    assert "FAILED (rc 3)" in capsys.readouterr().out


def test_stage_times_without_a_command_is_a_usage_error(tmp_path):
    assert stage_times.main(["run", str(tmp_path / "t.json"), "x"]) == 2
    assert subprocess.run([sys.executable, str(REPO / "tests/tools/stage_times.py")],
                          capture_output=True).returncode == 2


def test_savevm_or_loadvm_printing_anything_is_a_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "vm_dir", lambda name, lab_=None: tmp_path)
    monkeypatch.setattr(lab, "SNAPSHOT_TIMEOUT", 10)
    fake_qemu(tmp_path / "qmp.sock", [[b'{"return": {}}\n'],
                                      [b'{"return": "Error: Device \'drive0\' is writable but does not support snapshots\\r\\n"}\n']], [])
    with lab.Qmp("rs1") as q, pytest.raises(lab.LabError, match=r"rs1: savevm: Error: Device"):
        q.hmp_silent("savevm converged")

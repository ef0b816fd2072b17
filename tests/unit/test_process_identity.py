"""keepalived is recognised by what it is, never by its name (security review: a local user's process named
keepalived, stopped with SIGSTOP, made the watchdog release every VIP and kill keepalived).

A /proc tree is built per test: the real keepalived (keepalived.service's cgroup, uid 0, /usr/sbin/keepalived)
and impostors that each fail one of the three tests."""
import importlib.machinery
import importlib.util
import os
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[2] / "roles" / "keepalived" / "files"
BGP = Path(__file__).resolve().parents[2] / "roles" / "bgp" / "files"
CGROUP = "0::/system.slice/keepalived.service\n"


def load(path: Path, name: str):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


def fake_process(proc: Path, pid: int, *, comm="keepalived", state="S", ppid=1, cgroup=CGROUP, uid="0",
                 exe="/usr/sbin/keepalived"):
    d = proc / str(pid)
    d.mkdir(parents=True)
    (d / "stat").write_text(f"{pid} ({comm}) {state} {ppid} {pid} {pid} 0 -1 4194560\n")
    (d / "cgroup").write_text(cgroup)
    (d / "status").write_text(f"Name:\t{comm}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t0\t0\t0\t0\n")
    os.symlink(exe, d / "exe")


@pytest.fixture
def proc(tmp_path):
    p = tmp_path / "proc"
    fake_process(p, 100)                                   # keepalived, the parent
    fake_process(p, 101, ppid=100)                         # its checker
    fake_process(p, 500, state="T", uid="1000", cgroup="0::/user.slice/user-1000.slice/session-3.scope\n",
                 exe="/home/mallory/keepalived")           # a user's process named keepalived, stopped
    fake_process(p, 501, state="T", uid="1000", cgroup="0::/user.slice/user-1000.slice/session-3.scope\n")
    fake_process(p, 502, state="T", cgroup="0::/system.slice/cron.service\n")  # root, elsewhere
    fake_process(p, 503, state="T", exe="/tmp/keepalived")  # in the cgroup, root, another binary
    fake_process(p, 504, comm="sshd", exe="/usr/sbin/sshd", cgroup="0::/system.slice/ssh.service\n")
    return p


def test_only_the_real_keepalived_counts(proc):
    vr = load(FILES / "vip-release", "vip_release")
    assert vr.keepalived_processes(str(proc), cgroup_fs=None) == {100: ("S", 1), 101: ("S", 100)}


def test_on_cgroup_v2_only_the_units_own_processes_are_read(proc, tmp_path):
    vr = load(FILES / "vip-release", "vip_release")
    fs = tmp_path / "cgroup"
    (fs / "system.slice" / "keepalived.service").mkdir(parents=True)
    (fs / "cgroup.controllers").write_text("cpu memory pids\n")
    # The kernel's list; 503 is in the cgroup but runs another binary; 500 (a user's) is not listed at all.
    (fs / "system.slice" / "keepalived.service" / "cgroup.procs").write_text("100\n101\n503\n")
    assert vr.keepalived_processes(str(proc), cgroup_fs=str(fs)) == {100: ("S", 1), 101: ("S", 100)}
    # Each listed PID is still checked: a PID listed by the cgroup whose own files say otherwise does not count.
    (fs / "system.slice" / "keepalived.service" / "cgroup.procs").write_text("500\n504\n")
    assert vr.keepalived_processes(str(proc), cgroup_fs=str(fs)) == {}
    # The unit not running: its cgroup is gone, and so is keepalived.
    (fs / "system.slice" / "keepalived.service" / "cgroup.procs").unlink()
    (fs / "system.slice" / "keepalived.service").rmdir()
    assert vr.keepalived_processes(str(proc), cgroup_fs=str(fs)) == {}


def test_an_upgraded_binary_still_counts(tmp_path):
    vr = load(FILES / "vip-release", "vip_release")
    fake_process(tmp_path, 7, exe="/usr/sbin/keepalived (deleted)")
    assert vr.keepalived_processes(str(tmp_path), cgroup_fs=None) == {7: ("S", 1)}


def test_the_bgp_gate_counts_no_impostor_as_the_checker(proc):
    vr = load(FILES / "vip-release", "vip_release")
    gate = load(BGP / "lvsfleet-bgp-gate", "bgp_gate")
    assert gate.checker_running(vr.keepalived_processes(str(proc), cgroup_fs=None)) is True
    # An impostor pair: a user's "keepalived" and its child named keepalived: not the checker.
    fake = proc.parent / "fake"
    fake_process(fake, 600, uid="1000", cgroup="0::/user.slice/user-1000.slice/session-3.scope\n")
    fake_process(fake, 601, ppid=600, uid="1000", cgroup="0::/user.slice/user-1000.slice/session-3.scope\n")
    assert gate.checker_running(vr.keepalived_processes(str(fake), cgroup_fs=None)) is False


# ---------------------------------------------------------------- root writes only into root's directories
def test_textfile_written_atomically_into_a_root_directory(tmp_path):
    vr = load(FILES / "vip-release", "vip_release")
    d = tmp_path / "textfile"
    d.mkdir(mode=0o755)
    vr.write_textfile("lvsfleet.prom", "a 1\n", str(d))
    vr.write_textfile("lvsfleet.prom", "a 2\n", str(d))
    assert (d / "lvsfleet.prom").read_text() == "a 2\n"
    assert oct((d / "lvsfleet.prom").stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in d.iterdir()] == ["lvsfleet.prom"]


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership checks need root (CI and the lab run as root)")
def test_textfile_refuses_a_directory_another_user_controls(tmp_path):
    vr = load(FILES / "vip-release", "vip_release")
    victim = tmp_path / "shadow"
    victim.write_text("root:secret\n")
    # The prometheus user owns the parent: it can swap the directory for one holding a symlink.
    parent = tmp_path / "prometheus"
    (parent / "node-exporter").mkdir(parents=True)
    os.chown(parent, 65534, 65534)
    with pytest.raises(PermissionError, match="not root's alone"):
        vr.write_textfile("lvsfleet.prom", "a 1\n", str(parent / "node-exporter"))
    # A symlinked directory is not followed.
    (tmp_path / "link").symlink_to(tmp_path / "prometheus")
    with pytest.raises(OSError):
        vr.write_textfile("lvsfleet.prom", "a 1\n", str(tmp_path / "link" / "node-exporter"))
    # A planted symlink at the final name is replaced, never written through.
    d = tmp_path / "root-dir"
    d.mkdir(mode=0o755)
    (d / "lvsfleet.prom").symlink_to(victim)
    vr.write_textfile("lvsfleet.prom", "a 1\n", str(d))
    assert victim.read_text() == "root:secret\n" and not (d / "lvsfleet.prom").is_symlink()

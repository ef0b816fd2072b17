"""Root writes only into root's directories and trusts only root's files (security issue #31, item 2).

Every director tool reads and writes its files through vip-release's root_directory(), write_root_file(),
read_root_file(), root_file_exists() and remove_root_file(); lvsfleet-real-server, on hosts without vip-release,
keeps the same rule in root_dir()/read_root(). Each test plants what a local user could: a symlink or a hard link
at a name root writes, a directory another user owns or may write, a file another user owns.

The test's own user is trusted beside root (TRUSTED_UIDS), so the checks run without root; the tests that hand a
directory or file to another user (os.chown) need root and are skipped without it."""
import importlib.machinery
import importlib.util
import json
import os
from pathlib import Path

import pytest

ROLES = Path(__file__).resolve().parents[2] / "roles"
FILES = ROLES / "keepalived" / "files"
NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="handing a file to another user needs root")

CONFIG = """\
vrrp_instance VI_1 {
    state BACKUP
    interface eth1
    virtual_router_id 51
    virtual_ipaddress {
        198.51.100.10/24 dev eth1
    }
}
"""


def load(path: Path, name: str):
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


def trust_me(monkeypatch, module):
    """The test's user owns its tmp_path: trusted as root is (a no-op when the tests run as root)."""
    if hasattr(module, "TRUSTED_UIDS"):
        monkeypatch.setattr(module, "TRUSTED_UIDS", (0, os.geteuid()))


@pytest.fixture
def vr(monkeypatch):
    module = load(FILES / "vip-release", "vip_release")
    trust_me(monkeypatch, module)
    return module


@pytest.fixture
def victim(tmp_path):
    v = tmp_path / "shadow"
    v.write_text("root:secret\n")
    return v


def root_dir(path: Path) -> Path:
    path.mkdir(mode=0o755, parents=True)
    os.chmod(path, 0o755)
    return path


# ---------------------------------------------------------------- vip-release: the shared implementation
def test_a_write_is_synced_before_it_is_renamed_into_place(vr, tmp_path, monkeypatch):
    """State and records are synced; metrics rewritten every few seconds are not (the rename is enough)."""
    d = root_dir(tmp_path / "state")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(vr.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    vr.write_root_file(str(d / "last-reload.json"), "{}\n")
    assert len(synced) == 2, "the new file was renamed into place without fsync of it and its directory"
    assert (d / "last-reload.json").read_text() == "{}\n"
    synced.clear()
    vr.write_textfile("lvsfleet.prom", "a 1\n", str(d))
    assert not synced and (d / "lvsfleet.prom").read_text() == "a 1\n"


def test_the_directory_written_in_is_never_writable_by_others_even_sticky(vr, tmp_path):
    d = root_dir(tmp_path / "textfile")
    os.chmod(d, 0o1777)          # as /tmp: anyone may add names there (a crossed /tmp is fine, a written one not)
    with pytest.raises(PermissionError, match="not root's alone"):
        vr.write_textfile("lvsfleet.prom", "a 1\n", str(d))
    assert list(d.iterdir()) == []
    os.chmod(d, 0o775)
    with pytest.raises(PermissionError, match="not root's alone"):
        vr.write_textfile("lvsfleet.prom", "a 1\n", str(d))


def test_links_planted_at_the_final_or_a_temporary_name_are_never_written_through(vr, tmp_path, victim):
    d = root_dir(tmp_path / "state")
    (d / "out.json").symlink_to(victim)
    os.link(victim, d / f".out.json.{os.getpid()}.tmp")
    vr.write_root_file(str(d / "out.json"), "{}")
    assert victim.read_text() == "root:secret\n"
    assert (d / "out.json").read_text() == "{}" and not (d / "out.json").is_symlink()
    assert sorted(p.name for p in d.iterdir()) == ["out.json"]


def test_missing_directories_are_created_root_s_below_checked_ones(vr, tmp_path):
    vr.write_root_file(str(tmp_path / "run" / "lvsfleet" / "bgp-hold"), "1\n", create=True)
    st = (tmp_path / "run" / "lvsfleet").stat()
    assert st.st_uid == os.geteuid() and not st.st_mode & 0o022
    assert (tmp_path / "run" / "lvsfleet" / "bgp-hold").read_text() == "1\n"


def test_read_root_file_refuses_symlinks_fifos_and_files_others_may_write(vr, tmp_path, victim):
    d = root_dir(tmp_path / "etc")
    (d / "ok.conf").write_text("fine\n")
    os.chmod(d / "ok.conf", 0o640)
    assert vr.read_root_file(str(d / "ok.conf")) == b"fine\n"
    (d / "link.conf").symlink_to(victim)
    with pytest.raises(PermissionError, match="symlink"):
        vr.read_root_file(str(d / "link.conf"))
    os.mkfifo(d / "fifo.conf")                 # would block a plain open()
    with pytest.raises(PermissionError, match="not a regular file"):
        vr.read_root_file(str(d / "fifo.conf"))
    (d / "shared.conf").write_text("anyone's\n")
    os.chmod(d / "shared.conf", 0o664)
    with pytest.raises(PermissionError, match="not a regular file root's alone"):
        vr.read_root_file(str(d / "shared.conf"))
    with pytest.raises(FileNotFoundError):
        vr.read_root_file(str(d / "missing.conf"))


@as_root
def test_read_root_file_refuses_a_file_or_a_parent_another_user_owns(vr, tmp_path):
    d = root_dir(tmp_path / "etc")
    (d / "theirs.conf").write_text("x\n")
    os.chown(d / "theirs.conf", NOBODY, NOBODY)
    with pytest.raises(PermissionError, match="uid 65534"):
        vr.read_root_file(str(d / "theirs.conf"))
    (d / "sub").mkdir(mode=0o755)
    (d / "sub" / "ours.conf").write_text("x\n")
    os.chown(d, NOBODY, NOBODY)                # the owner of etc/ could swap sub/ for its own
    with pytest.raises(PermissionError, match="not root's alone"):
        vr.read_root_file(str(d / "sub" / "ours.conf"))


def test_release_reads_only_root_s_configuration(vr, tmp_path, monkeypatch, victim):
    victim.write_text(CONFIG)                    # a configuration root did not put there
    d = root_dir(tmp_path / "keepalived")
    (d / "keepalived.conf").symlink_to(victim)
    deleted = []
    monkeypatch.setattr(vr, "held", lambda dev: {"198.51.100.10/24"})
    monkeypatch.setattr(vr, "delete", lambda addr, dev: deleted.append(addr) or True)
    monkeypatch.setattr(vr, "resign", lambda vi: vi["name"])
    monkeypatch.setattr(vr.subprocess, "run", lambda *a, **k: None)
    assert vr.release(str(d / "keepalived.conf")).endswith("nothing to release")
    assert deleted == []
    (d / "keepalived.conf").unlink()
    (d / "keepalived.conf").write_text(CONFIG)
    os.chmod(d / "keepalived.conf", 0o640)
    vr.release(str(d / "keepalived.conf"))
    assert deleted == ["198.51.100.10/24"]


# ---------------------------------------------------------------- the records vrrp-notify writes (claims)
@pytest.fixture
def records(vr, tmp_path, monkeypatch):
    d = root_dir(tmp_path / "run" / "vrrp")
    monkeypatch.setattr(vr, "STATE_DIR", str(d))
    (d / "VI_1").write_text("FAULT\n")
    return d


def test_records_are_read_from_a_directory_only_its_owner_writes(vr, records):
    assert vr.records(["VI_1"])["VI_1"][0] == "FAULT"
    os.chmod(records, 0o777)                   # anyone could have planted the record
    assert vr.records(["VI_1"])["VI_1"][0] is None


def test_records_are_not_read_through_a_symlinked_directory(vr, records, tmp_path, monkeypatch):
    (tmp_path / "elsewhere").symlink_to(records.parent)
    monkeypatch.setattr(vr, "STATE_DIR", str(tmp_path / "elsewhere" / "vrrp"))
    assert vr.records(["VI_1"])["VI_1"][0] is None


def test_a_hard_linked_record_is_not_the_script_user_s_own(vr, records, tmp_path):
    os.link(records / "VI_1", tmp_path / "second-name")
    assert vr.records(["VI_1"])["VI_1"][0] is None


@as_root
def test_records_below_a_directory_another_user_owns_are_not_read(vr, records):
    os.chown(records.parent, NOBODY, NOBODY)   # it could swap vrrp/ for a directory of its own
    assert vr.records(["VI_1"])["VI_1"][0] is None
    os.chown(records.parent, 0, 0)
    os.chown(records, NOBODY, NOBODY)          # the script user's own directory: its claims, checked as such
    assert vr.records(["VI_1"])["VI_1"][0] == "FAULT"


# ---------------------------------------------------------------- lvsfleet-event: the reload record
@pytest.fixture
def ev(tmp_path, monkeypatch):
    module = load(FILES / "lvsfleet-event", "lvsfleet_event")
    trust_me(monkeypatch, module.vip_release() if hasattr(module, "vip_release") else module)
    monkeypatch.setattr(module, "SYSLOG", str(tmp_path / "no-socket"))
    return module


def test_the_reload_record_is_never_written_through_a_planted_link(ev, tmp_path, monkeypatch, victim):
    d = root_dir(tmp_path / "lib")
    monkeypatch.setattr(ev, "STATE_DIR", str(d))
    for tmp in (f"last-reload.json.{os.getpid()}.tmp", f".last-reload.json.{os.getpid()}.tmp"):
        os.link(victim, d / tmp)
    assert ev.main(["reload", "result=ok", "by=ops"]) == 0
    assert victim.read_text() == "root:secret\n"
    assert json.loads((d / "last-reload.json").read_text())["result"] == "ok"


@as_root
def test_the_reload_record_is_not_written_into_a_directory_another_user_owns(ev, tmp_path, monkeypatch):
    d = root_dir(tmp_path / "lib")
    os.chown(d, NOBODY, NOBODY)
    monkeypatch.setattr(ev, "STATE_DIR", str(d))
    assert ev.main(["reload", "result=ok", "by=ops"]) == 73
    assert list(d.iterdir()) == []


def test_the_configurations_compared_are_root_s(ev, tmp_path, victim):
    d = root_dir(tmp_path / "keepalived")
    (d / "keepalived.conf").write_text(CONFIG)
    (d / "keepalived.conf.lvsfleet-prev").symlink_to(victim)
    assert ev.main(["reload", "result=failed", f"previous={d / 'keepalived.conf.lvsfleet-prev'}",
                    f"current={d / 'keepalived.conf'}"]) == 66


# ---------------------------------------------------------------- lvsfleet-metrics: what it reads
@as_root
def test_metrics_trust_only_root_s_reload_record_and_configuration(vr, tmp_path, monkeypatch, victim):
    m = load(FILES / "lvsfleet-metrics", "lvsfleet_metrics")
    etc, lib = root_dir(tmp_path / "etc"), root_dir(tmp_path / "lib")
    (etc / "keepalived.conf").write_text(CONFIG)
    (tmp_path / "ip_vs").write_text("")
    for name, value in (("CONF", etc / "keepalived.conf"), ("STAGED", etc / "keepalived.conf.lvsfleet-next"),
                        ("STATE_DIR", lib), ("PROC_IPVS", tmp_path / "ip_vs")):
        monkeypatch.setattr(m, name, str(value))
    monkeypatch.setattr(m, "keepalived_restarts", lambda: 0)
    monkeypatch.setattr(vr, "held", lambda dev: set())
    monkeypatch.setattr(vr, "keepalived_running", lambda: True)
    (lib / "last-reload.json").write_text(json.dumps({"time": 5.0, "result": "ok"}))
    names = {s[0] for s in m.write_once(vr, None)}
    assert "lvsfleet_last_reload_success" in names
    os.chown(lib / "last-reload.json", NOBODY, NOBODY)      # not root's record: not reported
    names = {s[0] for s in m.write_once(vr, None)}
    assert "lvsfleet_last_reload_success" not in names
    (etc / "keepalived.conf").unlink()
    (etc / "keepalived.conf").symlink_to(victim)
    with pytest.raises(PermissionError):
        m.write_once(vr, None)


# ---------------------------------------------------------------- lvsfleet-bgp-gate: state, hold, maintenance
@pytest.fixture
def gate(vr, tmp_path, monkeypatch):
    module = load(ROLES / "bgp" / "files" / "lvsfleet-bgp-gate", "bgp_gate")
    if hasattr(module, "_VIP_RELEASE"):
        module._VIP_RELEASE[:] = [vr]           # the trusting vip-release of this test
    run = root_dir(tmp_path / "run" / "lvsfleet")
    for name, value in (("STATE", run / "bgp-gate.json"), ("HOLD", run / "bgp-hold"),
                        ("MAINTENANCE", root_dir(tmp_path / "etc") / "bgp-maintenance"),
                        ("TEXTFILE_DIR", tmp_path / "no-textfile-dir")):
        monkeypatch.setattr(module, name, str(value))
    return module


def test_the_gate_state_is_never_written_through_a_planted_link(gate, victim):
    state = Path(gate.STATE)
    Path(gate.STATE + ".tmp").symlink_to(victim)
    state.symlink_to(victim)
    gate.write_state({"203.0.113.50": {"protocol": "lvs_vip_203_0_113_50", "healthy": True, "reason": ""}}, None)
    assert victim.read_text() == "root:secret\n"
    assert json.loads(state.read_text())["203.0.113.50"]["announced"] is False


@as_root
def test_a_hold_directory_another_user_controls_holds_the_vips_back(gate, monkeypatch):
    monkeypatch.setattr(gate, "read_ip_vs", lambda: {("tcp", "203.0.113.50", 80): [1]})
    monkeypatch.setattr(gate, "checker_running", lambda: True)
    cfg = {"vips": [{"vip": "203.0.113.50", "protocol": "lvs_vip_203_0_113_50",
                     "services": [{"port": 80, "protocol": "tcp", "quorum": 1}]}]}
    assert gate.evaluate(cfg)["203.0.113.50"]["healthy"] is True
    os.chown(Path(gate.HOLD).parent, NOBODY, NOBODY)   # its owner could remove a hold or add one at will
    assert gate.evaluate(cfg)["203.0.113.50"]["healthy"] is False


def test_the_gate_configuration_is_read_only_as_root_s(gate, tmp_path, victim):
    victim.write_text(json.dumps({"vips": []}))
    d = root_dir(tmp_path / "lvsfleet")
    (d / "bgp-gate.json").symlink_to(victim)
    with pytest.raises(PermissionError):
        gate.load(str(d / "bgp-gate.json"))


# ---------------------------------------------------------------- lvsfleet-real-server: its record
@pytest.fixture
def rs(tmp_path, monkeypatch):
    module = load(ROLES / "real_server" / "files" / "lvsfleet-real-server", "lvsfleet_real_server")
    trust_me(monkeypatch, module)
    monkeypatch.setattr(module, "CREATED_DIR", str(tmp_path / "lib" / "lvsfleet"))
    return module


@as_root
def test_the_record_is_not_written_below_a_directory_another_user_owns(rs, tmp_path):
    root_dir(tmp_path / "lib" / "lvsfleet")
    os.chown(tmp_path / "lib", NOBODY, NOBODY)          # it could swap lvsfleet/ between the check and the write
    with pytest.raises(rs.Refused):
        rs.save_created({"rules": ["-4 100 198.51.100.10"], "routes": []})
    assert not (tmp_path / "lib" / "lvsfleet" / rs.CREATED).exists()


@as_root
def test_a_record_another_user_owns_is_not_trusted(rs, tmp_path):
    rs.save_created({"rules": ["-4 100 198.51.100.10"], "routes": []})
    assert rs.load_created()["rules"] == ["-4 100 198.51.100.10"]
    os.chown(tmp_path / "lib" / "lvsfleet" / rs.CREATED, NOBODY, NOBODY)
    with pytest.raises(rs.Refused):
        rs.load_created()


def test_the_record_is_synced_and_the_state_file_read_only_as_root_s(rs, tmp_path, monkeypatch, victim):
    monkeypatch.setattr(rs, "ip", lambda *args, **kw: pytest.fail(f"ip {args} run from a file root does not own"))
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(rs.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    rs.save_created({"rules": [], "routes": []})
    assert len(synced) == 2                     # the file, then the directory holding its new name
    victim.write_text(json.dumps({"tunnel_interface": "tunl0", "addresses": []}))
    d = root_dir(tmp_path / "etc")
    (d / "real-server.json").symlink_to(victim)
    assert rs.main([str(d / "real-server.json")]) == 1


# ---------------------------------------------------------------- lvsfleet-client-side: the state Ansible wrote
@as_root
def test_client_side_applier_reads_only_roots_state(tmp_path):
    """The applier adds and removes addresses from what STATE.json says: a state file reached through a symlink,
    owned by another user, writable by others, or in a directory another user controls, stops it."""
    cs = load(ROLES / "client_side" / "files" / "lvsfleet-client-side", "lvsfleet_client_side")
    etc = root_dir(tmp_path / "etc" / "lvsfleet")
    good = etc / "client-side.json"
    good.write_text('{"interface": "lvsclient0"}')
    os.chmod(good, 0o644)
    assert cs.read_root_file(str(good)) == b'{"interface": "lvsclient0"}'
    link = etc / "link.json"
    link.symlink_to(good)
    with pytest.raises(OSError):
        cs.read_root_file(str(link))
    other = etc / "other.json"
    other.write_text("{}")
    os.chown(other, NOBODY, NOBODY)
    writable = etc / "writable.json"
    writable.write_text("{}")
    os.chmod(writable, 0o666)
    for bad in (other, writable):
        with pytest.raises(SystemExit, match="not a regular file root alone may write"):
            cs.read_root_file(str(bad))
    os.chown(etc, NOBODY, NOBODY)
    with pytest.raises(SystemExit, match="not a directory root alone controls"):
        cs.read_root_file(str(good))

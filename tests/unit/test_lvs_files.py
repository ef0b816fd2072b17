"""lvs_files' host side, run as Ansible runs a module (arguments as JSON), on files in a temporary directory."""
import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "plugins" / "modules" / "lvs_files.py"
OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(tmp_path, files, check=False, **common):
    args = {"files": files, "owner": OWNER, "group": GROUP, **common, "_ansible_check_mode": check,
            "_ansible_tmpdir": str(tmp_path)}
    argfile = tmp_path / "args.json"
    argfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / ".collections"), *sys.path]))
    p = subprocess.run([sys.executable, str(MODULE), str(argfile)], capture_output=True, text=True, env=env)
    return json.loads(p.stdout)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reports_missing_and_different_files_and_fixes_only_attributes(tmp_path):
    same, other = tmp_path / "same", tmp_path / "other"
    same.write_bytes(b"one\n")
    same.chmod(0o600)
    other.write_bytes(b"old\n")
    files = [{"dest": str(same), "checksum": sha1(b"one\n"), "mode": "0755"},
             {"dest": str(other), "checksum": sha1(b"new\n")},
             {"dest": str(tmp_path / "absent"), "checksum": sha1(b"x")}]
    out = run(tmp_path, files, mode="0644")
    assert out["changed"] and out["needs_content"] == [str(other), str(tmp_path / "absent")]
    assert set(out["updated"]) == {str(same), str(other), str(tmp_path / "absent")}
    assert mode(same) == 0o755 and other.read_bytes() == b"old\n"  # content is the action plugin's to send


def test_check_mode_changes_nothing(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"one\n")
    f.chmod(0o600)
    out = run(tmp_path, [{"dest": str(f), "checksum": sha1(b"one\n")}], check=True, mode="0755")
    assert out["changed"] and out["updated"] == [str(f)] and mode(f) == 0o600


def test_nothing_to_do_is_no_change(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"one\n")
    f.chmod(0o644)
    out = run(tmp_path, [{"dest": str(f), "checksum": sha1(b"one\n")}])
    assert not out["changed"] and out["updated"] == [] and out["needs_content"] == []


def test_second_call_moves_the_sent_copy_into_place(tmp_path):
    dest, sent = tmp_path / "dest", tmp_path / "sent"
    dest.write_bytes(b"old\n")
    sent.write_bytes(b"new\n")
    out = run(tmp_path, [{"dest": str(dest), "src": str(sent), "checksum": sha1(b"new\n"), "mode": "0750"}])
    assert out["changed"] and dest.read_bytes() == b"new\n" and mode(dest) == 0o750 and not sent.exists()


@pytest.mark.parametrize("item, message", [
    ({"dest": "relative/path", "checksum": "0" * 40}, "must be an absolute path"),
    ({"dest": "/nonexistent/lvsfleet-test"}, "no checksum"),
])
def test_refuses_what_it_cannot_do_safely(tmp_path, item, message):
    out = run(tmp_path, [item])
    assert out.get("failed") and message in out["msg"], out


def test_a_copy_that_does_not_match_its_checksum_is_not_installed(tmp_path):
    dest, sent = tmp_path / "dest", tmp_path / "sent"
    dest.write_bytes(b"old\n")
    sent.write_bytes(b"tampered\n")
    out = run(tmp_path, [{"dest": str(dest), "src": str(sent), "checksum": sha1(b"new\n")}])
    assert out.get("failed") and "does not match" in out["msg"] and dest.read_bytes() == b"old\n"


def test_one_bad_copy_replaces_nothing(tmp_path):
    """Every transferred copy is checked before any file is replaced (a half-installed set would read as no
    change at the next run, and its handlers would never fire)."""
    a, b, sa, sb = tmp_path / "a", tmp_path / "b", tmp_path / "sa", tmp_path / "sb"
    a.write_bytes(b"old a\n")
    b.write_bytes(b"old b\n")
    sa.write_bytes(b"new a\n")
    sb.write_bytes(b"tampered\n")
    out = run(tmp_path, [{"dest": str(a), "src": str(sa), "checksum": sha1(b"new a\n")},
                         {"dest": str(b), "src": str(sb), "checksum": sha1(b"new b\n")}])
    assert out.get("failed") and not out["changed"] and "nothing was replaced" in out["msg"], out
    assert a.read_bytes() == b"old a\n" and b.read_bytes() == b"old b\n"


def test_a_file_that_cannot_be_staged_replaces_nothing(tmp_path):
    a, sa, sb = tmp_path / "a", tmp_path / "sa", tmp_path / "sb"
    a.write_bytes(b"old a\n")
    sa.write_bytes(b"new a\n")
    sb.write_bytes(b"new b\n")
    out = run(tmp_path, [{"dest": str(a), "src": str(sa), "checksum": sha1(b"new a\n")},
                         {"dest": str(tmp_path / "gone" / "b"), "src": str(sb), "checksum": sha1(b"new b\n")}])
    assert out.get("failed") and not out["changed"] and "nothing was replaced" in out["msg"], out
    assert a.read_bytes() == b"old a\n" and [p.name for p in tmp_path.glob(".lvs_files.*")] == []


def test_a_replacement_that_fails_after_others_reports_them_as_changed(tmp_path):
    a, b, sa, sb = tmp_path / "a", tmp_path / "b", tmp_path / "sa", tmp_path / "sb"
    a.write_bytes(b"old a\n")
    (b / "in-the-way").mkdir(parents=True)  # a directory where the file goes: the rename fails
    sa.write_bytes(b"new a\n")
    sb.write_bytes(b"new b\n")
    out = run(tmp_path, [{"dest": str(a), "src": str(sa), "checksum": sha1(b"new a\n")},
                         {"dest": str(b), "src": str(sb), "checksum": sha1(b"new b\n")}])
    assert out.get("failed") and out["changed"] and out["updated"] == [str(a)], out
    assert a.read_bytes() == b"new a\n" and [p.name for p in tmp_path.glob(".lvs_files.*")] == []

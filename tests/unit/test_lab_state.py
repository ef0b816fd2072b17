"""lab/lab.py runs as root: its state directory and the names it builds paths from."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))

import lab  # noqa: E402


def test_state_is_not_under_a_world_writable_directory():
    for parent in lab.STATE.parents:
        if parent.exists():
            assert not os.stat(parent).st_mode & 0o002, f"{parent} is world-writable"


def test_private_dir_is_made_0700(tmp_path):
    d = lab.private_dir(tmp_path / "state")
    assert d.is_dir() and (os.stat(d).st_mode & 0o777) == 0o700


def test_a_symlink_planted_first_is_refused(tmp_path):
    target = tmp_path / "attacker"
    target.mkdir(mode=0o700)
    (tmp_path / "state").symlink_to(target)
    with pytest.raises(lab.LabError, match="symlink"):
        lab.private_dir(tmp_path / "state")


def test_a_directory_open_to_others_is_refused(tmp_path):
    d = tmp_path / "state"
    d.mkdir()
    os.chmod(d, 0o777)
    with pytest.raises(lab.LabError):
        lab.private_dir(d)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory away")
def test_a_directory_another_user_made_is_refused(tmp_path):
    d = tmp_path / "state"
    d.mkdir(mode=0o700)
    os.chown(d, 65534, 65534)
    with pytest.raises(lab.LabError, match="not yours"):
        lab.private_dir(d)


def test_a_parent_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(lab.LabError, match="not be writable by others"):
        lab.private_dir(shared / "state")


@pytest.mark.parametrize("name", ["../../etc", "lb1/..", "LB1", "a b", "", "x" * 32])
def test_host_names_that_are_not_plain_are_refused(name, tmp_path, monkeypatch):
    inv = tmp_path / "hosts.yml"
    inv.write_text(f"all:\n  children:\n    directors:\n      hosts:\n        {name!r}: {{ansible_port: 2201}}\n")
    monkeypatch.setattr(lab, "INVENTORY", inv)
    with pytest.raises(lab.LabError, match="lab host name"):
        lab.hosts()


def test_the_lab_inventory_names_are_plain():
    assert {h["name"] for h in lab.hosts()} >= {"lb1", "lb2", "rs1", "rs2", "client"}

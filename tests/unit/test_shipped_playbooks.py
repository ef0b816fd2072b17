"""Every playbook the collection ships runs from the installed tarball alone: built, installed into an empty
collections path (with its dependency, offline), and `ansible-playbook --syntax-check lvsfleet.lvs.<name>` run
from a directory outside the checkout whose ansible.cfg knows nothing of it. A shipped playbook naming a lab
role (the lab keeps its roles beside the product) fails here."""
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import tool

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (REPO / "playbooks").glob("*.yml"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("collection")
    subprocess.run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(tmp / "dist"), str(REPO)],
                   check=True, capture_output=True)
    (tarball,) = (tmp / "dist").glob("lvsfleet-lvs-*.tar.gz")
    collections = tmp / "collections"
    shutil.copytree(REPO / ".collections" / "ansible_collections" / "ansible" / "posix",
                    collections / "ansible_collections" / "ansible" / "posix")
    outside = tmp / "operator"
    outside.mkdir()
    (outside / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {collections}\nroles_path = {outside}\n")
    groups = {"directors": "d1", "real_servers": "r1", "client_side": "c1", "monitoring": "m1", "bootstrap": "b1"}
    (outside / "hosts.yml").write_text("all:\n  children:\n" + "".join(
        f"    {g}:\n      hosts:\n        {h}:\n" for g, h in groups.items()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(outside / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections),
                    str(tarball)], check=True, capture_output=True, env=env, cwd=outside)
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    return outside, env, names


def test_every_playbook_ships():
    assert {"site", "verify", "reload", "drain", "maintenance", "status", "bootstrap", "adopt",
            "client_side"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_playbook_runs_from_the_installed_tarball(installed, name):
    outside, env, names = installed
    assert f"playbooks/{name}.yml" in names
    p = subprocess.run([tool("ansible-playbook"), "-i", "hosts.yml", "--syntax-check", f"lvsfleet.lvs.{name}"],
                       capture_output=True, text=True, env=env, cwd=outside)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    assert "[WARNING]" not in p.stdout + p.stderr, (p.stdout + p.stderr)[-3000:]

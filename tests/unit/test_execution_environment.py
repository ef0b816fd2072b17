"""The execution environment for AWX / Automation Platform, without a container engine (this machine has none):
`ansible-builder create` turns execution-environment.yml and the built collection tarball into a build context
whose Containerfile installs that tarball, and ansible-builder's own introspection (what it runs inside the
image's build) finds the collection's Python and system requirements in the installed tarball."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import tool

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """execution-environment.yml beside build/ee/lvsfleet-lvs.tar.gz, as `make ee` lays them out."""
    tmp = tmp_path_factory.mktemp("ee")
    shutil.copy(REPO / "execution-environment.yml", tmp)
    subprocess.run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(tmp / "dist"), str(REPO)],
                   check=True, capture_output=True)
    (tarball,) = (tmp / "dist").glob("lvsfleet-lvs-*.tar.gz")
    (tmp / "build" / "ee").mkdir(parents=True)
    shutil.copy(tarball, tmp / "build" / "ee" / "lvsfleet-lvs.tar.gz")
    return tmp, tarball


def test_ansible_builder_creates_a_context_that_installs_the_collection(built):
    tmp, _ = built
    p = subprocess.run([tool("ansible-builder"), "create", "-f", str(tmp / "execution-environment.yml"),
                        "-c", str(tmp / "context"), "--output-filename", "Containerfile"],
                       capture_output=True, text=True, cwd=tmp, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    context = tmp / "context"
    containerfile = (context / "Containerfile").read_text()
    assert (context / "_build" / "collections" / "lvsfleet-lvs.tar.gz").is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": "/tmp/lvsfleet/lvsfleet-lvs.tar.gz", "type": "file"}]}
    # The tarball is in place before the galaxy stage installs the requirements, and the builder stage
    # introspects the installed collections for their Python and system requirements.
    copy = containerfile.index("COPY _build/collections/ /tmp/lvsfleet/")
    assert copy < containerfile.index("ansible-galaxy collection install"), containerfile
    assert "introspect" in containerfile and "ansible-core==2.19.14" in containerfile


def test_ansible_builder_finds_the_collections_requirements(built, tmp_path):
    _, tarball = built
    collections = tmp_path / "collections"
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "--no-deps", "--force", "-p", str(collections),
                    str(tarball)], check=True, capture_output=True)
    p = subprocess.run([tool("ansible-builder"), "introspect", "--sanitize", str(collections)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    found = yaml.safe_load(p.stdout)
    python = " ".join(found["python"])
    system = " ".join(found["system"])
    assert "paramiko" in python and "bcrypt" in python, found
    assert "keepalived" in system and "util-linux" in system, found

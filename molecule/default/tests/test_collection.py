"""The collection as an operator gets it: `ansible-galaxy collection build` in this checkout, the tarball
installed with `ansible-galaxy collection install` into a directory of its own, then a playbook outside the
repository, with an ansible.cfg of its own that knows nothing of the checkout, calls it by FQCN against the
lab: the collection's rolling reload (verification, staging and validation on both directors, nothing to
roll on a converged lab), then its IPVS module. Then every shipped playbook by FQCN with an inventory outside
the checkout (below).
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import REPO, record

sys.path.insert(0, str(REPO / "molecule" / "resources"))

from vaulted import lab_secrets, leaks  # noqa: E402

BIN = Path(sys.executable).parent
PROJECT_ONLY = ("lab/", "inventory/", "molecule/", "benchmarks/", "tests/unit", "tests/bad_inventories",
                "tests/promtool", "tests/tools", ".venv", ".collections", "build/", "tools/", "ansible.cfg",
                "Makefile",
                "requirements.txt", "requirements-collections.txt")
PLAYBOOK = """\
- name: The collection's rolling reload, by FQCN
  ansible.builtin.import_playbook: lvsfleet.lvs.reload

- name: The collection's IPVS module, by FQCN
  hosts: directors
  gather_facts: false
  tasks:
    - name: Read the kernel's IPVS table
      lvsfleet.lvs.lvs_ipvs_info:
      register: table

    - name: The lab's web service is there
      ansible.builtin.assert:
        that: table.services | selectattr('vip', 'eq', '198.51.100.10') | selectattr('port', 'eq', 80) | length > 0
"""
CONFIG = """\
[defaults]
collections_path = {collections}
interpreter_python = /usr/bin/python3
gathering = explicit
host_key_checking = True
retry_files_enabled = False

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=600s
"""


def run(argv, **kw):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)
    assert p.returncode == 0, f"{argv}: rc {p.returncode}\n{(p.stdout + p.stderr)[-4000:]}"
    return p.stdout


def test_built_tarball_installs_and_runs_by_fqcn(tmp_path):
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", tmp_path / "dist", REPO])
    (tarball,) = (tmp_path / "dist").glob("lvsfleet-lvs-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    assert {"MANIFEST.json", "meta/runtime.yml", "plugins/modules/lvs_ipvs.py", "plugins/filter/lvs.py",
            "plugins/module_utils/lvsfleet/model.py", "roles/keepalived/tasks/main.yml",
            "playbooks/site.yml"} <= names, sorted(names)
    # What stays in the checkout (galaxy.yml's build_ignore); tests/sanity (the sanity ignore files) ships.
    shipped_lab = sorted(n for n in names if n.startswith(PROJECT_ONLY))
    assert shipped_lab == [], shipped_lab
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["dependencies"] == {"ansible.posix": ">=1.5.0"}, manifest

    # The operator's side: a directory outside the checkout, whose ansible.cfg names only the install directory
    # (the checkout's own link to itself must not count as "already installed").
    collections = tmp_path / "collections"
    outside = tmp_path / "operator"
    outside.mkdir()
    (outside / "ansible.cfg").write_text(CONFIG.format(collections=collections))
    (outside / "deploy.yml").write_text(PLAYBOOK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") or k == "ANSIBLE_VAULT_IDENTITY_LIST"}
    env.update(ANSIBLE_CONFIG=str(outside / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    # The dependency, as Galaxy would bring it (this network reaches no Galaxy): the copy `make venv` extracted.
    # --offline: the installer must find it installed rather than ask a server.
    shutil.copytree(REPO / ".collections" / "ansible_collections" / "ansible" / "posix",
                    collections / "ansible_collections" / "ansible" / "posix")
    out = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", collections, tarball],
              env=env, cwd=outside)
    assert "'ansible.posix:" in out and "is already installed" in out, out
    installed = collections / "ansible_collections" / "lvsfleet" / "lvs"
    assert (installed / "plugins" / "modules" / "lvs_ipvs.py").is_file()
    # At -vvv with ansible-core's own strategy: also the secret check of reload.yml's connection trace and output
    # (test_secrets_vvv.py searches its other runs the same way). --diff: the preview path too, which reads the
    # live keepalived.conf with its VRRP secret and prints a masked diff.
    p = subprocess.run([str(BIN / "ansible-playbook"), "-vvv", "--diff",
                        "-i", str(REPO / "inventory" / "lab" / "hosts.yml"),
                        "-e", f"lab_services_dir={REPO / 'inventory' / 'lab-services'}",  # else playbook-relative
                        str(outside / "deploy.yml")], capture_output=True, text=True, env=env, cwd=outside)
    out = p.stdout + p.stderr
    record("collection_fqcn", file="collection.json", rc=p.returncode, files=len(names))
    assert p.returncode == 0, out[-4000:]
    assert "ESTABLISH" in out and "EXEC" in out and "task path: " in out, "not a -vvv run of the linear strategy"
    assert leaks(out, lab_secrets()) == [], "the installed collection's reload.yml at -vvv printed a secret"
    # Only the installed copy can have run: the configuration above names no path in the checkout.
    assert "TASK [lvsfleet.lvs.keepalived : " in out and "[WARNING]" not in out, out[-4000:]
    assert "TASK [lvsfleet.lvs.keepalived : Show the keepalived.conf change (secrets masked)]" in out, "no preview"
    recap = {line.split()[0]: line for line in out.splitlines() if " : ok=" in line}
    assert {"lb1", "lb2"} <= set(recap) and all("changed=0" in line for line in recap.values()), recap


# Every shipped playbook, by FQCN from the installed tarball, with an inventory outside the checkout (the lab's,
# copied as an operator keeps theirs: hosts, group_vars, the HeYe service files beside them, roles of their own
# for the applications) and an ansible.cfg that names only the install directory and, as docs/performance.md
# tells operators, Mitogen's strategy. On the converged lab each run changes nothing on any host; status and
# adopt write only their reports on the controller. bootstrap runs with no worker to join (joining the lab's
# fresh workers is the bootstrap scenario's, which needs them fresh).
EVERY = [
    ("verify", []),
    ("site", []),
    ("reload", []),
    ("drain", ["-e", "drain_real_server=203.0.113.21", "-e", "drain_state=enabled"]),
    ("maintenance", ["-e", "director=lb2", "-e", "maintenance=end"]),
    ("status", ["-e", "status_dir={tmp}/status"]),
    ("bootstrap", ["-e", '{{"bootstrap_play_hosts": []}}']),
    ("adopt", ["-e", "adopt_dir={tmp}/adopted"]),
    ("client_side", []),
]


@pytest.fixture(scope="module")
def operator(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("operator")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", tmp / "dist", REPO])
    (tarball,) = (tmp / "dist").glob("lvsfleet-lvs-*.tar.gz")
    collections = tmp / "collections"
    shutil.copytree(REPO / ".collections" / "ansible_collections" / "ansible" / "posix",
                    collections / "ansible_collections" / "ansible" / "posix")
    shutil.copytree(REPO / "inventory" / "lab", tmp / "inventory", ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(REPO / "inventory" / "lab-services", tmp / "services")
    shutil.copytree(REPO / "lab" / "roles", tmp / "roles")
    strategy = Path(__import__("ansible_mitogen").__file__).parent / "plugins" / "strategy"
    (tmp / "ansible.cfg").write_text(CONFIG.format(collections=collections).replace(
        "[defaults]\n", f"[defaults]\nroles_path = {tmp / 'roles'}\nstrategy_plugins = {strategy}\n"
                        "strategy = mitogen_linear\ndeprecation_warnings = False\n"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") or k == "ANSIBLE_VAULT_IDENTITY_LIST"}
    env.update(ANSIBLE_CONFIG=str(tmp / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", collections, tarball], env=env, cwd=tmp)
    return tmp, env


@pytest.mark.parametrize("book,args", EVERY, ids=[b for b, _ in EVERY])
def test_every_shipped_playbook_from_the_tarball_with_an_outside_inventory(operator, book, args):
    tmp, env = operator
    argv = [BIN / "ansible-playbook", "-i", tmp / "inventory", "-e", f"lab_services_dir={tmp / 'services'}",
            *[a.format(tmp=tmp) for a in args], f"lvsfleet.lvs.{book}"]
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=tmp, timeout=1200)
    out = p.stdout + p.stderr
    recap = {line.split()[0]: line for line in out.splitlines() if " : ok=" in line}
    record(f"tarball_{book}", rc=p.returncode, hosts=len(recap))
    assert p.returncode == 0, out[-4000:]
    assert "[WARNING]" not in out and "[DEPRECATION WARNING]" not in out, out[-4000:]
    # Only the collection installed in the operator's directory ran: no path of the checkout in the output.
    assert str(REPO / "roles") not in out and str(REPO / "playbooks") not in out, out[-4000:]
    changed = {h: line for h, line in recap.items() if "changed=0" not in line and h != "localhost"}
    assert changed == {}, changed
    if book == "site":
        assert {"lb1", "lb2", "rs1", "rs2", "client"} <= set(recap), recap

"""What the repository's own ansible.cfg makes every run in it do."""
import configparser
import json
import os
import subprocess
from pathlib import Path

import yaml

from conftest import tool

REPO = Path(__file__).resolve().parents[2]


def cfg():
    c = configparser.ConfigParser()
    c.read(REPO / "ansible.cfg")
    return c


def test_no_vault_identity_is_configured_for_every_run():
    assert not cfg().has_option("defaults", "vault_identity_list"), \
        "a default vault id would encrypt production secrets with the lab's committed password"


def test_encrypt_string_in_the_repository_does_not_use_the_lab_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), HOME=str(tmp_path))
    p = subprocess.run([tool("ansible-vault"), "encrypt_string", "--name", "x", "production-secret"], cwd=REPO, env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode != 0 and ";lab" not in p.stdout, p.stdout + p.stderr


def test_ssh_control_sockets_stay_in_a_per_user_directory():
    c = cfg()
    path = c.get("ssh_connection", "control_path_dir", fallback="~/.ansible/cp")
    assert path.startswith("~/"), f"control_path_dir {path} is shared between users"


def test_the_lab_inventory_parses_without_warnings_or_stray_hosts(tmp_path):
    # The HeYe Service/Endpoints files and the lab's vault password sit beside the inventory directory: inside
    # it, read as inventory sources, they printed five warnings, and the password file became a host.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), HOME=str(tmp_path),
               ANSIBLE_VAULT_IDENTITY_LIST=f"lab@{REPO / 'inventory/lab-vault-password.lab'}")
    p = subprocess.run([tool("ansible-inventory"), "-i", "inventory/lab", "--list"], cwd=REPO, env=env,
                       capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    assert p.returncode == 0 and "WARNING" not in p.stderr, p.stderr
    hosts = set(json.loads(p.stdout)["_meta"]["hostvars"])
    assert {"lb1", "lb2", "rs1", "rs2", "client"} <= hosts, hosts
    assert not [h for h in hosts if "vault" in h or "apiVersion" in h], hosts


def test_the_checkout_defaults_to_no_inventory_and_holds_only_shipped_roles():
    """ansible.cfg points at no inventory and no roles beside the collection's (the Makefile and molecule name
    the lab's); roles/ holds only the roles the tarball ships, the lab's own are in lab/roles."""
    c = cfg()
    assert not c.has_option("defaults", "inventory") and not c.has_option("defaults", "roles_path")
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    ignored = set(galaxy["build_ignore"])
    assert not [r for r in (REPO / "roles").iterdir() if f"roles/{r.name}" in ignored]
    assert {r.name for r in (REPO / "lab" / "roles").iterdir()} >= {"demo_backend", "lab_backends", "lab_router"}
    assert len(ignored) <= 30, sorted(ignored)

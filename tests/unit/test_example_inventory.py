"""inventory/example, the files an operator copies for real hosts: it passes the gate every run starts with
(the model and keepalived's own config test), and carries nothing of the lab."""
import json
import os
import subprocess
from pathlib import Path

from conftest import tool

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory" / "example"


def clean_env(tmp_path):
    """No lab vault id and no ANSIBLE_* settings of the caller: what an operator's shell has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), HOME=str(tmp_path), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    return env


def test_the_example_passes_the_gate_without_contacting_a_host(tmp_path):
    # The vault file is the operator's to create; its one secret comes in as an extra var here. Should a task
    # ever connect, ProxyCommand=false fails it before a packet leaves this machine.
    p = subprocess.run([tool("ansible-playbook"), "-i", str(EXAMPLE), str(REPO / "playbooks" / "verify.yml"),
                        "-e", "vault_vrrp_auth_pass=example1",
                        "-e", "ansible_ssh_common_args='-o ProxyCommand=false'"],
                       cwd=REPO, env=clean_env(tmp_path), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert "UNREACHABLE" not in out and "WARNING" not in out, out[-3000:]
    assert "ok: [lb1 -> localhost]" in out  # keepalived judged lb1's configuration on the controller


def test_the_example_needs_its_own_vault_secret(tmp_path):
    p = subprocess.run([tool("ansible-playbook"), "-i", str(EXAMPLE), str(REPO / "playbooks" / "verify.yml")],
                       cwd=REPO, env=clean_env(tmp_path), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=300)
    assert p.returncode != 0 and "vault_vrrp_auth_pass" in p.stdout + p.stderr, p.stdout[-2000:]


def test_the_example_carries_nothing_of_the_lab(tmp_path):
    p = subprocess.run([tool("ansible-inventory"), "-i", str(EXAMPLE), "--list"], cwd=REPO,
                       env=clean_env(tmp_path), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=120)
    assert p.returncode == 0 and "WARNING" not in p.stderr, p.stderr
    inventory = json.loads(p.stdout)
    hostvars = inventory["_meta"]["hostvars"]
    assert set(hostvars) == {"lb1", "lb2", "web1"}
    text = json.dumps(hostvars)
    for lab in ("lvsfleet-lab", "lab_", "127.0.0.1", "198.51.100.", "203.0.113.", "vault-password"):
        assert lab not in text, lab
    # Every string in the example is a placeholder an operator must replace or a documentation address.
    assert all(hv["ansible_host"].startswith("192.0.2.") for hv in hostvars.values())

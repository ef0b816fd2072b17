"""The gate (playbooks/verify.yml) judges every rendered file a program reads with that program, on the controller,
before any host is contacted: each anycast director's bird.conf with `bird -p`, each monitoring host's prometheus.yml
with `promtool check config --syntax-only`, each client-side host's keepalived.conf with keepalived --config-test,
and each director's merged sysctl set with lvs_kernel's grammar (lvs_sysctl_errors).

Each run is a real `ansible-playbook playbooks/verify.yml` on a lab inventory (inventory/lab, inventory/lab-ecmp)
whose every host is made unreachable (extra vars ansible_host=127.0.0.9, ansible_port=1): a task that contacted a
host would show it UNREACHABLE. A bad value comes in as an extra variable over the lab's own.
"""
import json
import os
import re
import subprocess
from pathlib import Path

from conftest import tool

import pytest

from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_normalize_bgp, lvs_sysctl_errors

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = {"ansible_host": "127.0.0.9", "ansible_port": 1}


def verify(inventory: str, tmp: Path, start_at: str = "", **extra) -> subprocess.CompletedProcess:
    """verify.yml on inventory/<inventory>, every host unreachable, `extra` as extra variables (JSON); from the
    task named `start_at` when given (the plays and tasks before it do not run)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"), ANSIBLE_ROLES_PATH=str(REPO / "lab" / "roles"),
               ANSIBLE_VAULT_IDENTITY_LIST=f"lab@{REPO / 'inventory' / 'lab-vault-password.lab'}")
    extra_file = tmp / "extra.json"
    extra_file.write_text(json.dumps(dict(UNREACHABLE, **extra)))
    return subprocess.run([tool("ansible-playbook"), "-i", str(REPO / "inventory" / inventory),
                           "-e", f"@{extra_file}", str(REPO / "playbooks" / "verify.yml")]
                          + (["--start-at-task", start_at] if start_at else []),
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def no_host_contacted(out: str) -> bool:
    return not re.search(r"UNREACHABLE!|unreachable=[1-9]", out)


def failure(out: str) -> str:
    """The failed task's message (the gate's own words)."""
    found = re.findall(r'fatal: \[[^\]]+\]: FAILED! => (\{.*\})', out)
    assert found, out[-3000:]
    return json.loads(found[0])["msg"]


@pytest.fixture(scope="module", autouse=True)
def programs():
    """The controller's programs the gate runs (`make setup`)."""
    for name in ("bird", "promtool", "ansible-playbook"):
        tool(name)


@pytest.mark.parametrize("inventory, ran", [
    ("lab-ecmp", ["bgp : Test the rendered bird.conf", "keepalived : Test it"]),
    ("lab", ["monitoring : Test the rendered prometheus.yml", "keepalived : Test it",
             "included: lvsfleet.lvs.client_side"]),
])
def test_lab_inventory_passes_every_program(inventory, ran, tmp_path):
    run = verify(inventory, tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert no_host_contacted(out), out[-4000:]
    for task in ran:
        assert task in out, f"{task!r} did not run:\n{out[-4000:]}"
    assert "NOT tested" not in out, out
    if inventory == "lab":
        # The client-side host's keepalived.conf is tested (delegated to the controller), and its prometheus.yml.
        assert re.search(r"ok: \[client -> localhost", out), out[-4000:]


def lab_bgp_model(tmp: Path) -> dict:
    """The closed BGP model of inventory/lab-ecmp, every director's sources in it (what roles/bgp renders from)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
               ANSIBLE_VAULT_IDENTITY_LIST=f"lab@{REPO / 'inventory' / 'lab-vault-password.lab'}")
    inv = json.loads(subprocess.run([tool("ansible-inventory"), "-i", str(REPO / "inventory" / "lab-ecmp"), "--list"],
                                    capture_output=True, text=True, env=env, cwd=REPO, check=True).stdout)
    hostvars = inv["_meta"]["hostvars"]
    directors = [h for h in hostvars if "lvs_bgp_source" in hostvars[h]]
    first = hostvars[directors[0]]
    for nb in first["lvs_bgp"]["neighbors"]:
        nb.pop("password", None)  # untemplated there; and without one the failure is not hidden by no_log
    return lvs_normalize_bgp(first["lvs_bgp"], first["lvs_services"], {h: hostvars[h] for h in directors})


def test_bird_refuses_a_bird_conf_it_cannot_parse(tmp_path):
    """The bird.conf test itself. The inventory check refuses every name BIRD would (test_bird_keywords.py), so
    this run hands the role the lab's closed model with one neighbor renamed 'allow' (a BIRD keyword), as if the
    model had let it through: BIRD refuses the rendered file and the gate stops for each anycast director, naming
    the file and BIRD's own error line, before any host is contacted."""
    bgp = lab_bgp_model(tmp_path)
    bgp["neighbors"][0]["name"] = "allow"
    run = verify("lab-ecmp", tmp_path, _bgp_model=bgp)
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert no_host_contacted(out), out[-4000:]
    msg = failure(out)
    assert re.match(r"lb\d: BIRD \(\S+/bird -p\) rejects the /etc/bird/bird\.conf", msg), msg
    assert "no host was changed" in msg
    assert re.search(r"/etc/bird/bird\.conf:\d+:\d+ syntax error, unexpected ALLOW", msg), msg
    assert "PLAY [Verify every monitoring host" not in out  # any_errors_fatal: the run stopped there


def test_the_inventory_check_refuses_a_bird_keyword_first(tmp_path):
    run = verify("lab-ecmp", tmp_path, lvs_bgp={
        "asn": 65001, "vip_interface": "lvsvip0",
        "neighbors": [{"name": "allow", "address": "198.51.100.1", "asn": 65000, "hold_time": 9, "keepalive_time": 3}]})
    out = run.stdout + run.stderr
    assert run.returncode != 0 and no_host_contacted(out)
    assert "lvs_bgp.neighbors[0].name: 'allow' is a BIRD keyword" in failure(out)
    assert "Test the rendered bird.conf" not in out


def test_promtool_refuses_a_broken_prometheus_yml(tmp_path):
    """A rendered prometheus.yml promtool refuses (an unknown field injected through the CA path the template
    writes): the gate stops with promtool's own line, naming the host and the file."""
    run = verify("lab", tmp_path, monitoring_node_exporter_ca_file="/etc/prometheus/ca.pem\n      bogus_field: 1")
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert no_host_contacted(out), out[-4000:]
    msg = failure(out)
    assert msg.startswith("client: promtool check config rejects the /etc/prometheus/prometheus.yml"), msg
    assert "bogus_field" in msg and "/etc/prometheus/prometheus.yml" in msg, msg


def test_sysctl_names_and_values_refused_before_any_host(tmp_path):
    run = verify("lab-ecmp", tmp_path, lvs_director_sysctls_extra={
        "net/ipv4/ip_forward": 1, "net.core.somaxconn": "1\nkernel.panic = 1",
        "net.ipv4.tcp_rmem": "4096 131072 6291456"})
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert no_host_contacted(out), out[-4000:]
    msg = failure(out)
    assert re.match(r"lb\d: lvs_director_sysctls_extra: ", msg), msg
    assert 'lvs_director_sysctls_extra: "net/ipv4/ip_forward": 1: the key is not a sysctl name' in msg, msg
    assert 'lvs_director_sysctls_extra: "net.core.somaxconn": "1\\nkernel.panic = 1": the value is not' in msg, msg
    assert "tcp_rmem" not in msg  # words of numbers: a valid value
    assert "Test the rendered bird.conf" not in out  # stopped before the programs


def test_unknown_sysctl_profile_refused(tmp_path):
    """The inventory check (play 1) or the sysctl check (play 2) refuses it, naming the host and the value."""
    run = verify("lab-ecmp", tmp_path, lvs_director_sysctl_profile="fast")
    out = run.stdout + run.stderr
    assert run.returncode != 0 and no_host_contacted(out)
    assert re.search(r"lb\d: lvs_director_sysctl_profile:? ['\"]fast['\"] is not", failure(out)), failure(out)


@pytest.mark.parametrize("layers, expected", [
    ([["a", {"net.ipv4.ip_forward": 1, "vm.swappiness": True, "net.ipv4.tcp_congestion_control": "bbr"}]], []),
    ([["a", {"net.ipv4.ip_forward": "x y"}], ["b", {"net.ipv4.ip_forward": None}]],
     ['h: b: "net.ipv4.ip_forward": null: the value is not a plain number or word']),
    ([["a", {"net.ipv4.ip_forward": None}], ["b", {"net.ipv4.ip_forward": 1}]], []),  # the later layer wins
    ([["a", {"net..ipv4": 1}]], ['h: a: "net..ipv4": 1: the key is not a sysctl name']),
    ([["a", {"net.ipv4.x": [1, 2]}]], ['h: a: "net.ipv4.x": [1, 2]: the value is not a plain number or word']),
    ([["a", {"net.ipv4.x": 0.5}]], ['h: a: "net.ipv4.x": 0.5: the value is not a plain number or word']),
    ([["a", "net.ipv4.x=1"]], ['h: a: "net.ipv4.x=1" must be a mapping of sysctl name to value']),
])
def test_sysctl_errors_filter(layers, expected):
    errors = lvs_sysctl_errors(layers, "h")
    assert len(errors) == len(expected) and all(e.startswith(x) for e, x in zip(errors, expected)), errors

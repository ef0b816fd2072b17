"""The bad-inventory corpus: every case stops site.yml before any host is touched, with its exact message.

Two layers: the model functions give the message (fast), and a real `ansible-playbook playbooks/site.yml`
run against an inventory whose directors are unreachable (127.0.0.9:1) fails in the verify play with that
message and never contacts a host (no task result for d1/d2, no UNREACHABLE).
"""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from module_utils.lvsfleet.model import ModelError, normalize_services, normalize_vrrp_instances, normalize_vrrp_scripts

REPO = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((REPO / "tests" / "bad_inventories" / "cases.yml").read_text())
BASE_SERVICES = [{"name": "web", "vip": "198.51.100.10", "port": 80, "real_servers": ["203.0.113.21"]}]
BASE_VRRP = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"d1": 150, "d2": 100},
              "virtual_ipaddresses": ["198.51.100.10/24"]}]
IDS = [c["name"] for c in CASES]


def test_corpus_is_large_enough():
    assert len(CASES) >= 40 and len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_model_message(case):
    with pytest.raises(ModelError) as err:
        normalize_services(case.get("services", BASE_SERVICES))
        scripts = normalize_vrrp_scripts(case.get("scripts", []))
        normalize_vrrp_instances(case.get("vrrp", BASE_VRRP), ["d1", "d2"], scripts=scripts)
    assert str(err.value) == case["message"]


def run_site(case, tmp: Path) -> subprocess.CompletedProcess:
    inv = tmp / case["name"].replace(" ", "_")
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"directors": {"hosts": {
        "d1": {"ansible_host": "127.0.0.9", "ansible_port": 1},
        "d2": {"ansible_host": "127.0.0.9", "ansible_port": 1}}}}}}))
    (inv / "group_vars" / "all" / "lvs.yml").write_text(yaml.safe_dump({
        "lvs_services": case.get("services", BASE_SERVICES), "lvs_vrrp_instances": case.get("vrrp", BASE_VRRP),
        "lvs_vrrp_scripts": case.get("scripts", [])}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"))
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    return subprocess.run([str(ansible_playbook), "-i", str(inv), str(REPO / "playbooks" / "site.yml")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def test_site_yml_stops_before_any_host(tmp_path):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: (c, run_site(c, tmp_path)), CASES))
    problems = []
    for case, proc in results:
        out = proc.stdout + proc.stderr
        flat = re.sub(r"\s+", " ", out)
        if proc.returncode == 0:
            problems.append(f"{case['name']}: site.yml succeeded")
        elif case["message"] not in flat:
            problems.append(f"{case['name']}: message not found in output:\n{out[-1500:]}")
        elif re.search(r"(ok|changed|fatal|unreachable|skipping): \[d[12]\]|UNREACHABLE!|^d[12] +:", out, re.MULTILINE):
            problems.append(f"{case['name']}: a director was contacted:\n{out[-1500:]}")
    assert not problems, "\n".join(problems)

"""The bad-inventory corpus: every case stops site.yml before any host is touched, with its exact message.

Two layers: the gate's model function (`check_inventory`, what verify.yml runs) gives every case's message
(fast), and a real `ansible-playbook playbooks/site.yml` run against an inventory whose directors and real
servers are unreachable (127.0.0.9:1) fails in the verify play with that message and never contacts a host (no
task result for a director or real server except those delegated to the controller, nothing UNREACHABLE).
The second layer runs a sample (each run starts Ansible; all 349 cost 2 minutes of every `make test`): one
case of every inventory shape (which of the keys below it sets) and field group, and one slice of SLICES, both
chosen by a seed that changes daily and is named in a failure's message: every case runs at least once in
SLICES consecutive days. LVSFLEET_CORPUS_SEED=<n> replays a day's sample, LVSFLEET_CORPUS_SEED=all runs every
case.

A case (tests/bad_inventories/cases.yml) sets any of: `services` (lvs_services), `vrrp` (lvs_vrrp_instances),
`scripts` (lvs_vrrp_scripts), `hosts` (per-director variables), `real_servers` (real-server hosts and their
variables), `heye` (a HeYe-format file appended to the services), `all_vars` (more group_vars/all),
`no_directors` (the directors group is missing), `client_side` (the variables of a client-side host c1,
group client_side), `director_in` (a group the first director is also in), and `field` (what the case is about, for the census).
"""
import collections
import datetime
import os
import random
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import tool

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_check_inventory
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, services_from_k8s

REPO = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((REPO / "tests" / "bad_inventories" / "cases.yml").read_text())
BASE_SERVICES = [{"name": "web", "vip": "198.51.100.10", "port": 80, "real_servers": ["203.0.113.21"]}]
BASE_VRRP = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"d1": 150, "d2": 100},
              "virtual_ipaddresses": ["198.51.100.10/24"]}]
IDS = [c["name"] for c in CASES]
DIRECTORS = ("d1", "d2")
HEYE_PATH = "services/heye.yaml"


def test_corpus_is_large_enough():
    assert len(CASES) >= 150 and len(set(IDS)) == len(IDS)
    assert all(c.get("field") for c in CASES), "every case says which field it is about"


def census() -> dict:
    return dict(sorted(collections.Counter(c["field"].split(".")[0] for c in CASES).items()))


def shared_vars(case) -> dict:
    out = {"lvs_services": case.get("services", BASE_SERVICES), "lvs_vrrp_instances": case.get("vrrp", BASE_VRRP),
           "lvs_vrrp_scripts": case.get("scripts", [])}
    out.update(case.get("all_vars", {}))
    return out


class HostVars(dict):
    """hostvars as the gate filter reads them (raw_get: the untemplated variables)."""

    def raw_get(self, host):
        return self[host]


def inventory(case) -> tuple[HostVars, dict]:
    """hostvars and groups of the case's inventory (as run_site writes it), without Ansible."""
    common = shared_vars(case)
    if "heye" in case:
        common["lvs_services"] = list(common["lvs_services"]) + services_from_k8s(
            list(yaml.safe_load_all(case["heye"])), HEYE_PATH)
    hostvars, groups = HostVars(), {"all": []}
    group = "balancers" if case.get("no_directors") else "directors"
    for h in DIRECTORS:
        hostvars[h] = dict(common, **(case.get("hosts") or {}).get(h, {}))
        groups.setdefault(group, []).append(h)
    for h, hv in (case.get("real_servers") or {}).items():
        hostvars[h] = dict(common, **hv)
        groups.setdefault("real_servers", []).append(h)
    if "client_side" in case:
        hostvars["c1"] = dict(common, **case["client_side"])
        groups.setdefault("client_side", []).append("c1")
    if case.get("director_in"):
        groups.setdefault(case["director_in"], []).append(DIRECTORS[0])
    groups["all"] = list(hostvars)
    return hostvars, groups


def model_check(case) -> None:
    """What verify.yml's gate does (the filter lvs_check_inventory), without Ansible."""
    try:
        lvs_check_inventory(*inventory(case))
    except AnsibleFilterError as exc:
        raise ModelError(str(exc).removeprefix("invalid inventory: ")) from None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_model_message(case):
    with pytest.raises(ModelError) as err:
        model_check(case)
    assert str(err.value) == case["message"]


def run_site(case, tmp: Path) -> subprocess.CompletedProcess:
    inv = tmp / re.sub(r"[^A-Za-z0-9_.-]", "_", case["name"])
    (inv / "group_vars" / "all").mkdir(parents=True)
    unreachable = {"ansible_host": "127.0.0.9", "ansible_port": 1}
    children = {}
    if not case.get("no_directors"):
        children["directors"] = {"hosts": {h: dict(unreachable, **(case.get("hosts") or {}).get(h, {}))
                                           for h in DIRECTORS}}
    else:
        children["balancers"] = {"hosts": {h: dict(unreachable) for h in DIRECTORS}}
    if "client_side" in case:
        children["client_side"] = {"hosts": {"c1": dict(unreachable, **case["client_side"])}}
    if case.get("director_in"):
        children.setdefault(case["director_in"], {"hosts": {}})["hosts"][DIRECTORS[0]] = None
    if case.get("real_servers"):
        children["real_servers"] = {"hosts": {h: dict(unreachable, **hv) for h, hv in case["real_servers"].items()}}
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": children}}))
    common = shared_vars(case)
    if "heye" in case:
        (inv / "services").mkdir()
        (inv / HEYE_PATH).write_text(case["heye"])
        common["heye_base_services"] = common.pop("lvs_services")
        common["lvs_services"] = ("{{ [heye_base_services, (lookup('ansible.builtin.file', inventory_dir ~ '/"
                                  + HEYE_PATH + "') | ansible.builtin.from_yaml_all | lvsfleet.lvs.lvs_services_from_k8s('"
                                  + HEYE_PATH + "'))] | ansible.builtin.flatten(levels=1) }}")
    (inv / "group_vars" / "all" / "lvs.yml").write_text(yaml.safe_dump(common))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"))
    return subprocess.run([tool("ansible-playbook"), "-i", str(inv), str(REPO / "playbooks" / "site.yml")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def contacted(out: str) -> bool:
    """A task ran on a director or real server itself (not delegated to the controller), or one was unreachable."""
    return bool(re.search(r"(ok|changed|fatal|unreachable|skipping): \[(d[12]|rs\d|c1)\]|UNREACHABLE!|unreachable=[1-9]",
                          out))


def shape(case) -> tuple:
    """What a case's inventory is made of (the keys it sets) and the group of fields it is about."""
    return tuple(sorted(set(case) - {"name", "message", "field"})), case["field"].split(".")[0]


SLICES = 12


def site_sample(seed: str) -> list[dict]:
    """One case of every shape picked with `seed`, and the cases of slice seed % SLICES; every case for "all"."""
    if seed == "all":
        return list(CASES)
    if not seed.isdigit():
        raise ValueError(f"LVSFLEET_CORPUS_SEED: {seed!r} is neither a non-negative integer nor 'all'")
    strata = collections.defaultdict(list)
    for case in CASES:
        strata[shape(case)].append(case)
    rng = random.Random(int(seed))
    picked = {rng.choice(group)["name"] for _, group in sorted(strata.items())}
    picked |= {c["name"] for i, c in enumerate(CASES) if i % SLICES == int(seed) % SLICES}
    return [c for c in CASES if c["name"] in picked]


def test_site_sample_covers_every_shape_and_every_case_within_its_cycle():
    days = [site_sample(str(20261201 + d)) for d in range(SLICES)]
    shapes = {shape(c) for c in CASES}
    assert all({shape(c) for c in day} == shapes for day in days)
    assert {c["name"] for day in days for c in day} == set(IDS), "a case no day of the cycle runs"
    assert all(len(day) <= len(shapes) + len(CASES) // SLICES + 1 for day in days)
    assert len(site_sample("all")) == len(CASES)
    with pytest.raises(ValueError, match="LVSFLEET_CORPUS_SEED"):
        site_sample("today")


def test_site_yml_stops_before_any_host(tmp_path):
    seed = os.environ.get("LVSFLEET_CORPUS_SEED") or datetime.date.today().strftime("%Y%m%d")
    sample = site_sample(seed)
    print(f"site.yml sample: {len(sample)} of {len(CASES)} cases, LVSFLEET_CORPUS_SEED={seed}")  # with -rP
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: (c, run_site(c, tmp_path)), sample))
    problems = []
    for case, proc in results:
        out = proc.stdout + proc.stderr
        # Ansible prints messages JSON-encoded: a newline in a quoted value shows as \\n, a quote as \\".
        flat = re.sub(r"\s+", " ", out.replace("\\\\", "\\").replace('\\"', '"'))
        if proc.returncode == 0:
            problems.append(f"{case['name']}: site.yml succeeded")
        elif re.sub(r"\s+", " ", case["message"]) not in flat:
            problems.append(f"{case['name']}: message not found in output:\n{out[-1500:]}")
        elif contacted(out):
            problems.append(f"{case['name']}: a host was contacted:\n{out[-1500:]}")
        elif re.search(r"Traceback|templating type error|object has no attribute", out):
            problems.append(f"{case['name']}: a crash instead of a message:\n{out[-1500:]}")
    assert not problems, f"LVSFLEET_CORPUS_SEED={seed}:\n" + "\n".join(problems)

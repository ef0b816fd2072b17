#!/usr/bin/env python3
"""What the controller's gate costs as the inventory grows: generated inventories of SERVICES services (10 real
servers each, HTTP checks) on DIRECTORS directors, no host contacted.

    benchmarks/scale_bench.py [--services 10,100,1000,2000] [--directors 2,4,8] [--rounds 1]

For each size it prints, measured side by side in one invocation:
  - gate: `ansible-playbook playbooks/verify.yml` wall time (the whole pre-flight: model over every host's
    variables, every director's keepalived.conf rendered by the role and judged by keepalived --config-test);
  - model: the gate filter (lvs_check_inventory) in this process;
  - render: one director's keepalived.conf from the role's templates in this process (Jinja2);
  - config-test: keepalived-config-test --offline on that file;
and each as a ratio to the smallest size of the same director count. The last line is JSON with every figure.
Inventories use documentation addresses only and unreachable hosts (127.0.0.9:1); nothing is contacted.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))
sys.path.insert(0, str(REPO / "tests" / "unit"))


def inventory(services: int, directors: int) -> dict:
    """group_vars/all and the hosts of a generated inventory: `services` VIP:ports on 1 VIP per 50 services,
    10 real servers each (a /16 of documentation-like space is not available, so real servers cycle through
    203.0.113.0/24 with distinct ports)."""
    names = [f"lb{i + 1}" for i in range(directors)]
    svcs, vips = [], []
    base = ipaddress.ip_address("198.51.100.0")
    for i in range(services):
        vip = str(base + 10 + i // 50)
        if vip not in vips:
            vips.append(vip)
        port = 1000 + i % 50
        svcs.append({"name": f"svc{i}", "vip": vip, "port": port, "scheduler": "wrr", "forwarding": "nat",
                     "health_check": {"type": "http", "path": "/health", "interval": 6, "timeout": 3},
                     "real_servers": [{"address": f"203.0.113.{20 + j}", "port": 8000 + i % 1000, "weight": 1 + j}
                                      for j in range(10)]})
    pairs = [names[k:k + 2] for k in range(0, directors, 2)]
    instances = [{"name": f"VI_{k}", "interface": "lan0", "virtual_router_id": 50 + k,
                  "priorities": {h: 150 - 50 * j for j, h in enumerate(pair)},
                  "virtual_ipaddresses": [f"{v}/24" for v in vips[k::len(pairs)]] or [f"192.0.2.{k + 1}/24"]}
                 for k, pair in enumerate(pairs)]
    # Every director runs every service; each pair holds its share of the VIPs.
    return {"names": names, "vars": {"lvs_services": svcs, "lvs_vrrp_instances": instances,
                                     "lvs_vrrp_scripts": []}}


def write(inv: dict, where: Path) -> Path:
    (where / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    hosts = {"all": {"children": {"directors": {"hosts": {
        h: {"ansible_host": "127.0.0.9", "ansible_port": 1} for h in inv["names"]}}}}}
    (where / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (where / "group_vars" / "all" / "lvs.yml").write_text(yaml.safe_dump(inv["vars"], width=200))
    return where


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


class HostVars(dict):
    def raw_get(self, host):
        return self[host]


def measure(services: int, directors: int, tmp: Path) -> dict:
    from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_check_inventory
    from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import (normalize_services,
                                                                                      normalize_vrrp_instances)
    from test_keepalived_render import ROLE_VARS, environment

    inv = inventory(services, directors)
    path = write(inv, tmp / f"s{services}-d{directors}")
    hostvars = HostVars({h: dict(inv["vars"]) for h in inv["names"]})
    model_s, _ = timed(lambda: lvs_check_inventory(hostvars, {"all": inv["names"], "directors": inv["names"]}))

    def render():
        svcs = normalize_services(inv["vars"]["lvs_services"])
        vrrp = normalize_vrrp_instances(inv["vars"]["lvs_vrrp_instances"], inv["names"], services=svcs)
        return environment().get_template("keepalived.conf.j2").render(
            ansible_managed="managed", inventory_hostname="lb1", keepalived_router_id="lb1",
            keepalived_script_user="keepalived_script", keepalived_garp_master_repeat=3,
            keepalived_garp_master_refresh=0, keepalived_priority_override=0, keepalived_model_services=svcs,
            keepalived_model_scripts=[], keepalived_my_vrrp=[v for v in vrrp if "lb1" in v["priorities"]],
            keepalived_sync_groups=[], keepalived_check_credentials_dir="/etc/keepalived/lvsfleet-checks",
            keepalived_syslog_probe=ROLE_VARS["keepalived_syslog_probe"], keepalived_check_source="")
    render_s, conf = timed(render)
    conf_path = path / "lb1.conf"
    conf_path.write_text(conf)
    test = [str(REPO / "roles" / "keepalived" / "files" / "keepalived-config-test"), "--offline", str(conf_path)]
    config_test_s, proc = timed(lambda: subprocess.run(test, capture_output=True, text=True))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(path), str(REPO / "playbooks" /
                                                                                      "verify.yml")]
    gate_s, gate = timed(lambda: subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO))
    if gate.returncode != 0:
        raise SystemExit(f"verify.yml failed at {services} services x {directors} directors:\n"
                         f"{gate.stdout[-2000:]}{gate.stderr[-2000:]}")
    return {"services": services, "directors": directors, "real_servers": services * 10, "gate_s": round(gate_s, 2),
            "model_s": round(model_s, 3), "render_s": round(render_s, 3), "config_test_s": round(config_test_s, 2),
            "config_test_rc": proc.returncode, "conf_bytes": len(conf)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", default="10,100,1000,2000")
    ap.add_argument("--directors", default="2,4,8")
    args = ap.parse_args()
    sizes = [int(x) for x in args.services.split(",")]
    counts = [int(x) for x in args.directors.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="lvsfleet-scale.") as tmp:
        for d in counts:
            for n in sizes:
                rows.append(measure(n, d, Path(tmp)))
                r = rows[-1]
                base = next(x for x in rows if x["directors"] == d)
                ratio = {k: round(r[k] / base[k], 2) if base[k] else None
                         for k in ("gate_s", "model_s", "render_s", "config_test_s")}
                r["ratio_to_smallest"] = ratio
                print(f"{n:>5} services x {d} directors ({n * 10:>6} real servers): gate {r['gate_s']:7.2f} s "
                      f"(x{ratio['gate_s']}), model {r['model_s']:6.3f} s (x{ratio['model_s']}), render/director "
                      f"{r['render_s']:6.3f} s (x{ratio['render_s']}), config-test {r['config_test_s']:5.2f} s "
                      f"(x{ratio['config_test_s']}, rc {r['config_test_rc']})", flush=True)
    print(json.dumps({"scale": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Adopting the hand-built director pair (converge.yml): adopt.yml writes an inventory of what the model takes and
names, with file:line, the two items it does not (a PATH-relative check script, a port-0 service), and fails
without adopt_partial; reload.yml with the partial inventory, under load, removes exactly the left-out service from
the kernel, moves no VIP and drops no request; a second reload changes nothing."""
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))

from labtest import LAB, REPO, STATE, Load, Watch, lab_host, private_dir, recap, record  # noqa: E402

PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
LAB_INVENTORY = REPO / "inventory" / "lab"
CONNECTION = LAB_INVENTORY / "group_vars" / "all" / "connection.yml"
ADOPTED = STATE / "adopted"
VIP = "198.51.100.10"
LEFT_OUT = ["script chk_keepalived", "service tcp-198.51.100.10-0"]


def without_left_out(saved_table: str) -> list[str]:
    """ipvsadm-save -n's lines without the port-0 service the adoption left out."""
    return [line for line in saved_table.splitlines() if f"{VIP}:0 " not in line]


def run(*argv: str) -> tuple[int, str, float]:
    t0 = time.monotonic()
    p = subprocess.run([PLAYBOOK, *argv], capture_output=True, text=True,
                       env=dict(__import__("os").environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    return p.returncode, p.stdout + p.stderr, round(time.monotonic() - t0, 1)


def saved(name: str) -> str:
    return lab_host(name).check_output("ipvsadm-save -n")


def reload_adopted(*extra: str) -> tuple[int, str, float]:
    return run("-i", str(ADOPTED), "-e", f"@{CONNECTION}", str(REPO / "playbooks" / "reload.yml"), *extra)


def test_adopt_writes_an_inventory_and_reports_what_it_left():
    private_dir(STATE)
    subprocess.run(["rm", "-rf", "--", str(ADOPTED)], check=True)
    rc, out, took = run("-i", str(LAB_INVENTORY / "hosts.yml"), str(REPO / "playbooks" / "adopt.yml"),
                        "-e", f"adopt_dir={ADOPTED}", "-e", "adopt_vault_id=lab")
    record("adopt_playbook", file="adopt.json", playbook_s=took)
    # Partial: everything is written, the two items are named, and the run fails unless adopt_partial=true.
    assert rc != 0 and "adopted 1 of 2 services, 1 of 1 VRRP instances, 0 of 1 scripts; 2 item(s) need a " \
        "decision" in out and "adopt_partial=true" in out, out[-3000:]
    assert "hand1234" not in out, "the VRRP password was printed"
    group = yaml.safe_load((ADOPTED / "group_vars" / "directors" / "lvsfleet.yml").read_text())
    (vi,) = group["lvs_vrrp_instances"]
    assert vi["priorities"] == {"lb1": 150, "lb2": 100} and vi["advertised_addresses"] == 2
    assert vi["virtual_ipaddresses"] == ["198.51.100.10/24", "203.0.113.1/24"]
    assert vi["auth_pass"] == "{{ vault_adopted_auth_pass_vi_hand }}"
    (svc,) = group["lvs_services"]
    assert [(r["address"], r["port"], r["weight"]) for r in svc["real_servers"]] == [
        ("203.0.113.21", 8080, 1), ("203.0.113.22", 8080, 2)]
    assert svc["health_check"]["type"] == "http"
    vault = (ADOPTED / "group_vars" / "directors" / "vault.yml").read_text()
    assert vault.startswith("$ANSIBLE_VAULT;1.2;AES256;lab") and "hand1234" not in vault
    written = yaml.safe_load((ADOPTED / "adopt-report.txt").read_text())
    report = written["adopt_report"]
    # lvsfleet writes its own global_defs: router_id, script security and user are reported as replaced
    assert {r["directive"].split()[0] for r in report} == {"router_id", "enable_script_security", "script_user",
                                                           "left"}, report
    assert written["adopt_left_out"] == LEFT_OUT
    left = sorted((r["block"], r["where"]) for r in report if r["directive"] == "left out")
    assert left == [("script chk_keepalived", "lb1:/etc/keepalived/keepalived.conf:58"),
                    ("service tcp-198.51.100.10-0", "lb1:/etc/keepalived/keepalived.conf:64")], left
    hosts = yaml.safe_load((ADOPTED / "hosts.yml").read_text())["all"]["children"]["directors"]["hosts"]
    assert sorted(hosts) == ["lb1", "lb2"]


def test_reload_with_the_adopted_inventory_under_load_changes_nothing_and_drops_nothing():
    before = {h: saved(h) for h in ("lb1", "lb2")}
    watches = {h: Watch(h, seconds=400) for h in ("lb1", "lb2")}
    load = Load(min_requests=5000)
    rc, out, took = reload_adopted()
    result = load.stop()
    for h in ("lb1", "lb2"):
        subprocess.run(LAB + ["ssh", h, "pkill", "-f", "python3 -u -"], check=False)
    samples = {h: w.wait() for h, w in watches.items()}
    holders = {h: sum(VIP in s["addrs"] for _, s in samples[h]) for h in samples}
    record("adopt_reload_under_load", file="adopt.json", playbook_s=took, samples=len(samples["lb1"]),
           lb1_held=holders["lb1"], lb2_held=holders["lb2"], **{k: result[k] for k in (
               "requests", "ok", "failed", "errors", "longest_gap_s", "p99_ms", "rps")})
    assert rc == 0, out[-3000:]
    assert result["failed"] == 0 and result["requests"] >= 5000, result
    assert f"-A -t {VIP}:0 " in before["lb1"], "the hand-built pair ran the port-0 service"
    assert {h: saved(h).splitlines() for h in ("lb1", "lb2")} == {h: without_left_out(t) for h, t in before.items()}, \
        "the reload changed the IPVS table beyond removing the left-out service"
    # no VRRP transition: lb1 held the VIP in every sample, lb2 in none
    assert samples["lb1"] and holders["lb1"] == len(samples["lb1"]) and holders["lb2"] == 0, holders
    conf = lab_host("lb1").check_output("cat /etc/keepalived/keepalived.conf")
    assert "/usr/local/libexec/lvsfleet/vrrp-notify" in conf, "the directors do not run lvsfleet's rendering"


def test_reload_with_the_adopted_inventory_again_changes_nothing():
    rc, out, took = reload_adopted()
    assert rc == 0, out[-3000:]
    hosts = recap(out)
    assert hosts["lb1"]["changed"] == 0 and hosts["lb2"]["changed"] == 0, hosts


def test_a_live_ipvs_table_is_adopted_too():
    """The same directors adopted from their kernel table (what a pair built with ipvsadm scripts offers)."""
    target = STATE / "adopted-ipvs"
    subprocess.run(["rm", "-rf", "--", str(target)], check=True)
    rc, out, took = run("-i", str(LAB_INVENTORY / "hosts.yml"), str(REPO / "playbooks" / "adopt.yml"),
                        "-e", f"adopt_dir={target}", "-e", "adopt_source=ipvs")
    assert rc == 0, out[-3000:]
    group = yaml.safe_load((target / "group_vars" / "directors" / "lvsfleet.yml").read_text())
    assert [(s["vip"], s["port"], s["protocol"], s["scheduler"], s["forwarding"], s["health_check"], s["vip_holder"])
            for s in group["lvs_services"]] == [("198.51.100.10", 80, "tcp", "wrr", "nat", "none", "external")]
    assert [(r["address"], r["port"], r["weight"]) for r in group["lvs_services"][0]["real_servers"]] == [
        ("203.0.113.21", 8080, 1), ("203.0.113.22", 8080, 2)]
    assert not (target / "group_vars" / "directors" / "vault.yml").exists()
    report = yaml.safe_load((target / "adopt-report.txt").read_text())["adopt_report"]
    assert any("no health checks" in r["reason"] for r in report), report

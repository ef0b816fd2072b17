"""Metrics, alerts and the event log on the converged lab, after the other checks of this scenario (the
drain and maintenance runs of test_secrets_vvv, the keepalived kills of test_selfheal):

- Prometheus on the monitoring host (client) scrapes node_exporter on both directors and both real servers;
- the ipvs collector's per-backend figures and lvsfleet's VRRP, VIP, keepalived and health metrics are there,
  and they agree with the kernel: one MASTER, one VIP holder, every real server of web up;
- at rest no critical alert fires and no director drifts from what the inventory renders;
- the journal holds lvsfleet-event lines for the rolls (with who ran them, a failed one too) and for the VRRP
  transitions;
- status.yml prints the fleet table and writes the JSON and the one-file page; with rs2's web server stopped,
  the page opened in Debian's chromium (headless) shows the VIP, its holder and rs2 down (screenshot kept in
  /var/lib/lvsfleet-lab/results/status.png).
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

from conftest import LAB, REPO, lab_host, prom, record

sys.path.insert(0, str(REPO / "lab"))
from lab import STATE, private_dir  # noqa: E402

VIP = "198.51.100.10"
DIRECTORS = ("lb1", "lb2")


def values(query: str) -> dict:
    """{instance (or the whole label set, as a tuple): value} of an instant query."""
    return {r["metric"].get("instance", tuple(sorted(r["metric"].items()))): float(r["value"][1])
            for r in prom(query)}


def eventually(check, seconds: float = 60):
    """Retry `check` until it passes: the lab's state settles within a few scrapes after the drills."""
    end = time.monotonic() + seconds
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > end:
                raise
            time.sleep(2)


def test_prometheus_scrapes_every_director_and_real_server():
    def check():
        up = values('up{job=~"lvsfleet_.*"}')
        assert up == {"lb1": 1, "lb2": 1, "rs1": 1, "rs2": 1}, up
    eventually(check)


def test_node_exporter_answers_only_https_with_the_scrape_password():
    """node_exporter serves TLS with basic auth (inventory/lab/group_vars/all/metrics.yml): from the monitoring
    host, plain HTTP and a request without the password are refused; Prometheus's CA and password get the
    metrics (the scrape job's `up` above is the same through Prometheus itself)."""
    client = lab_host("client")
    ca, secret = "/etc/prometheus/lvsfleet-node-exporter-ca.pem", "/etc/prometheus/lvsfleet-node-exporter.password"
    for addr in ("203.0.113.11", "203.0.113.12", "203.0.113.21"):
        code = 'curl -s -o /dev/null -w "%{{http_code}}" --max-time 10 {} {}://{}:9100/metrics; true'
        plain = client.check_output(code.format("", "http", addr))
        anonymous = client.check_output(code.format(f"--cacert {ca}", "https", addr))
        netrc = f"--netrc-file <(printf 'machine {addr} login prometheus password %s\\n' \"$(cat {secret})\")"
        scraped = client.check_output("bash -c " + shlex.quote(code.format(f"--cacert {ca} {netrc}", "https", addr)))
        assert (plain, anonymous, scraped) == ("400", "401", "200"), (addr, plain, anonymous, scraped)
        web = lab_host("lb1" if addr.endswith(".11") else "lb2" if addr.endswith(".12") else "rs1")
        listing = web.check_output("stat -c '%U:%G %a %n' /etc/lvsfleet/node-exporter /etc/lvsfleet/node-exporter/*")
        assert all(line.startswith(("root:prometheus 750 ", "root:prometheus 640 ")) for line in listing.splitlines())
        config = web.check_output("cat /etc/lvsfleet/node-exporter/web.yml")
        assert "prometheus: $2b$10$" in config and client.check_output(f"cat {secret}") not in config, listing


def test_ipvs_collector_reports_the_kernel_table_of_both_directors():
    conns = prom(f'node_ipvs_backend_weight{{local_address="{VIP}",local_port="80"}}')
    by_director = {}
    for r in conns:
        by_director.setdefault(r["metric"]["instance"], set()).add(r["metric"]["remote_address"])
    assert by_director == {"lb1": {"203.0.113.21", "203.0.113.22"}, "lb2": {"203.0.113.21", "203.0.113.22"}}, conns
    assert values('node_ipvs_connections_total{instance="lb1"}')["lb1"] > 0


def test_vrrp_vip_and_health_metrics_match_the_kernel():
    def check():
        masters = values('sum by (vrrp_instance) (lvsfleet_vrrp_state{state="MASTER"})')
        assert masters and set(masters.values()) == {1.0}, masters
        held = values(f'lvsfleet_vip_held{{vip="{VIP}"}}')
        assert sorted(held.values()) == [0.0, 1.0], held
        holder = next(i for i, v in held.items() if v == 1)
        kernel = {d: VIP in lab_host(d).check_output("ip -4 -o addr show dev lan0") for d in DIRECTORS}
        assert kernel[holder] and sum(kernel.values()) == 1, (held, kernel)
        assert values("lvsfleet_keepalived_up") == {"lb1": 1, "lb2": 1}
        web = prom(f'lvsfleet_real_server_up{{service="web",vip="{VIP}"}}')
        assert len(web) == 4 and all(r["value"][1] == "1" for r in web), web
    eventually(check)


def test_no_critical_alert_and_no_drift_at_rest():
    def check():
        firing = prom('ALERTS{alertstate="firing",severity="critical"}')
        assert firing == [], firing
        assert values("lvsfleet_config_drift") == {"lb1": 0, "lb2": 0}
    eventually(check, 90)


def test_the_journal_holds_the_events():
    """Every line of the event log is one well-formed event; the self-healing drills left their VRRP and real
    server events. (Reload events are checked where reloads happen: molecule/rolling/tests.)"""
    for name in DIRECTORS:
        lines = lab_host(name).check_output("journalctl -t lvsfleet-event -o cat --no-pager").splitlines()
        assert all(re.match(r"v=1 ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z director=\S+ event=\w+", ln)
                   for ln in lines), lines
        reloads = [ln for ln in lines if " event=reload " in ln]
        assert all(re.search(r" result=(ok|failed) by=\S+ ", ln) for ln in reloads), reloads
    # The kill drills moved VI_LAB: lb1 went MASTER -> STOP -> ... -> MASTER.
    lb1 = lab_host("lb1").check_output("journalctl -t lvsfleet-event -o cat --no-pager")
    assert re.search(r"event=vrrp vrrp_instance=VI_LAB from=MASTER to=\w+", lb1), lb1
    assert re.search(r"event=real_server_down service=\S+ real_server=\S+", lb1), lb1


ENV = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def status(out_dir) -> tuple[str, dict]:
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(REPO / "inventory" / "lab"),
            str(REPO / "playbooks" / "status.yml"), "-e", f"status_dir={out_dir}"]
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    return p.stdout, json.loads((out_dir / "status.json").read_text())


def chromium(*args) -> str:
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is missing (make setup installs it)"
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_status_report_and_page_in_a_real_browser():
    out_dir = private_dir(private_dir(STATE) / "results") / "status"
    out_dir.mkdir(exist_ok=True)
    subprocess.run(LAB + ["ssh", "rs2", "systemctl", "stop", "nginx"], check=True)
    try:
        def rs2_down():
            web = prom('lvsfleet_real_server_up{service="web",real_server="203.0.113.22",instance="lb1"}')
            assert web and web[0]["value"][1] == "0", web
        eventually(rs2_down, 60)
        t0 = time.monotonic()
        printed, rep = status(out_dir)
        took = round(time.monotonic() - t0, 1)
    finally:
        subprocess.run(LAB + ["ssh", "rs2", "systemctl", "start", "nginx"], check=True)
    # The table, as printed.
    assert re.search(r"198\.51\.100\.10 +VI_LAB +held by lb1", printed), printed[-3000:]
    assert re.search(r"203\.0\.113\.22:8080 +lb1: w- DOWN", printed), printed[-3000:]
    # The JSON.
    vip = next(v for v in rep["vips"] if v["vip"] == VIP)
    assert vip["holders"] == ["lb1"] and vip["state"] == "ok"
    assert any("203.0.113.22:8080 is down" in p for p in rep["problems"]), rep["problems"]
    # The page, as a person sees it in chromium: the DOM after rendering, and a screenshot.
    page = out_dir / "status.html"
    dom = chromium("--dump-dom", page.as_uri())
    shot = STATE / "results" / "status.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1800", "--hide-scrollbars", page.as_uri())
    assert shot.stat().st_size > 10000
    record("status_page", file="telemetry.json", playbook_s=took, screenshot=str(shot), html=str(page))
    vips = dom[dom.index('id="vips"'):dom.index("</table>", dom.index('id="vips"'))]
    assert VIP in vips and "lb1" in vips, vips
    # Every VIP of every VRRP instance (the advert's and those past it: virtual_ipaddress_excluded), each with
    # the services it carries.
    instances = yaml.safe_load((REPO / "inventory" / "lab" / "group_vars" / "directors" / "vrrp.yml").read_text())
    configured = {a.split("/")[0] for vi in instances["lvs_vrrp_instances"] for a in vi["virtual_ipaddresses"]}
    assert {v["vip"] for v in rep["vips"]} == configured, rep["vips"]
    assert all(f"<code>{a}</code>" in vips for a in configured), vips
    assert "web (tcp/80)" in next(v for v in rep["vips"] if v["vip"] == VIP)["services"], rep["vips"]
    row = re.search(r'<tr class="bad" data-real-server="203\.0\.113\.22:8080">(.*?)</tr>', dom, re.S)
    assert row and "DOWN" in row.group(1), dom[-4000:]
    assert "held by no director" not in dom and "split brain" not in dom

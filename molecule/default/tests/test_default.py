"""NAT, DR and TUN VIPs end to end on real kernels: modules, sysctls, VRRP, IPVS table, real servers, traffic."""
import json
import subprocess
import sys
import time

import pytest

from conftest import lab_host, probe

VIP = "198.51.100.10"
REAL_SERVERS = ("203.0.113.21:8080", "203.0.113.22:8080")
DIRECTORS = ("lb1", "lb2")


@pytest.mark.parametrize("name", DIRECTORS)
def test_ip_vs_loaded_and_persisted(name):
    host = lab_host(name)
    modules = {line.split()[0] for line in host.file("/proc/modules").content_string.splitlines()}
    assert {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_mh"} <= modules
    persisted = host.file("/etc/modules-load.d/lvsfleet.conf").content_string.split()
    assert "ip_vs" in persisted and "ip_vs_sh" in persisted


@pytest.mark.parametrize("name", DIRECTORS)
def test_sysctls_set_and_persisted(name):
    host = lab_host(name)
    assert host.sysctl("net.ipv4.ip_forward") == 1
    assert host.sysctl("net.ipv4.vs.expire_nodest_conn") == 1
    assert host.sysctl("net.ipv4.conf.all.send_redirects") == 0
    assert "net.ipv4.vs.expire_nodest_conn = 1" in host.file("/etc/sysctl.d/90-lvsfleet.conf").content_string


@pytest.mark.parametrize("name", DIRECTORS)
def test_keepalived_running_with_script_security(name):
    host = lab_host(name)
    svc = host.service("keepalived")
    assert svc.is_running and svc.is_enabled
    conf = host.file("/etc/keepalived/keepalived.conf").content_string
    assert "enable_script_security" in conf and "script_user keepalived_script" in conf


def test_vrrp_records_are_read_from_a_directory_root_controls(lb1):
    """/run/lvsfleet is root's, only its vrrp/ the script user's (vrrp-notify writes the records there): root's
    tools read the records, and keep their own files beside them, only below directories root alone controls.
    Owned by the script user (the file module gave the parent the child's owner), every record was ignored."""
    owners = lb1.check_output("stat -c '%U:%a' /run/lvsfleet /run/lvsfleet/vrrp").split()
    assert owners == ["root:755", "keepalived_script:755"], owners
    state = json.loads(lb1.check_output("/usr/local/libexec/lvsfleet/vrrp-state"))
    assert state["VI_LAB"]["recorded"] == "MASTER" and state["VI_LAB"]["transitions"], state["VI_LAB"]


def test_vip_on_master_only(lb1, lb2):
    assert f"inet {VIP}/24" in lb1.check_output("ip -4 addr show dev lan0")
    assert f"inet {VIP}/24" not in lb2.check_output("ip -4 addr show dev lan0")


@pytest.mark.parametrize("name", DIRECTORS)
def test_ipvs_table_has_service_and_both_real_servers(name):
    out = lab_host(name).check_output("ipvsadm -Ln")
    assert f"TCP  {VIP}:80 rr" in out
    for rs in REAL_SERVERS:
        assert f"-> {rs}" in out and "Masq" in out


def test_client_requests_reach_both_real_servers():
    result = probe(f"{VIP}:80", 40)
    assert result["ok"] == 40, result
    assert set(result["by_server"]) == {"rs1", "rs2"}, result
    assert min(result["by_server"].values()) >= 10, result


# DR and TUN: the real servers answer the client themselves (the VIP on their lo / tunl0).
DR_VIP, TUN_VIP = "198.51.100.20:8080", "198.51.100.21:8080"


@pytest.mark.parametrize("name", ("rs1", "rs2"))
def test_real_server_prepared_for_dr_and_tun(name):
    host = lab_host(name)
    assert "198.51.100.20/32" in host.check_output("ip -4 addr show dev lo")
    assert "198.51.100.21/32" in host.check_output("ip -4 addr show dev tunl0")
    assert host.sysctl("net.ipv4.conf.all.arp_ignore") == 1
    assert host.sysctl("net.ipv4.conf.all.arp_announce") == 2
    assert host.sysctl("net.ipv4.conf.tunl0.rp_filter") == 2
    persisted = host.file("/etc/sysctl.d/85-lvsfleet-real-server.conf").content_string
    assert "net.ipv4.conf.all.arp_ignore = 1" in persisted
    assert host.service("lvsfleet-real-server").is_enabled


def test_real_servers_do_not_answer_arp_for_the_vips():
    client = lab_host("client")
    out = client.check_output("ip neigh flush dev lan0; ping -c1 -W2 198.51.100.20 >/dev/null; ip neigh show 198.51.100.20")
    masters_mac = lab_host("lb1").check_output("cat /sys/class/net/lan0/address").strip()
    assert masters_mac in out, out


@pytest.mark.parametrize("vip", (DR_VIP, TUN_VIP))
def test_dr_and_tun_reach_both_real_servers(vip):
    result = probe(vip, 20)
    assert result["ok"] == 20, result
    assert set(result["by_server"]) == {"rs1", "rs2"}, result


def test_dr_and_tun_survive_a_real_server_reboot():
    from conftest import REPO
    subprocess.run([sys.executable, str(REPO / "lab" / "lab.py"), "reboot", "rs2"], check=True)
    rs2 = lab_host("rs2")
    rs2.run("systemctl is-system-running --wait")  # sshd answers before the last boot units have run
    assert rs2.service("lvsfleet-real-server").is_running
    assert "198.51.100.21/32" in rs2.check_output("ip -4 addr show dev tunl0")
    # keepalived took rs2 out while it was down; wait for its health check to put it back.
    lb1, deadline = lab_host("lb1"), time.monotonic() + 60
    while any("203.0.113.22:8080" not in lb1.check_output(f"ipvsadm -Ln -t {vip}") for vip in (DR_VIP, TUN_VIP)):
        assert time.monotonic() < deadline, "rs2 did not return to the DR/TUN services after its reboot"
        time.sleep(1)
    for vip in (DR_VIP, TUN_VIP):
        result = probe(vip, 20)
        assert result["ok"] == 20 and set(result["by_server"]) == {"rs1", "rs2"}, (vip, result)


def test_vrrp_auth_sync_daemon_and_track_script(lb1, lb2):
    for host in (lb1, lb2):
        conf = host.file("/etc/keepalived/keepalived.conf")
        assert conf.user == "root" and conf.mode == 0o640
        text = conf.content_string
        assert "auth_type PASS" in text and "auth_pass Lb-7q2Xk" in text  # decrypted from the lab's vault
        assert "lvs_sync_daemon lan0 VI_LAB id 51" in text
        assert 'script "/usr/bin/test -e /proc/net/ip_vs"' in text and "chk_ipvs" in text
    # The connection-sync daemon follows VRRP: master on the MASTER, backup on the BACKUP.
    assert "master sync daemon" in lb1.check_output("ipvsadm -L --daemon")
    assert "backup sync daemon" in lb2.check_output("ipvsadm -L --daemon")
    states = {h: json.loads(x.check_output("/usr/local/libexec/lvsfleet/vrrp-state"))["VI_LAB"]["state"]
              for h, x in (("lb1", lb1), ("lb2", lb2))}
    assert states == {"lb1": "MASTER", "lb2": "BACKUP"}


# The HeYe-format source inventory/lab-services/shop.yaml (Kubernetes-style Service + Endpoints).
SHOP_VIP = "198.51.100.40"


@pytest.mark.parametrize("name", DIRECTORS)
def test_heye_format_service_is_in_the_table(name):
    out = lab_host(name).check_output(f"ipvsadm -Ln -t {SHOP_VIP}:80")
    assert f"TCP  {SHOP_VIP}:80 wrr" in out, out
    for rs in REAL_SERVERS:
        assert f"-> {rs}" in out, out


def test_heye_format_service_serves_traffic():
    result = probe(f"{SHOP_VIP}:80", 20)
    assert result["ok"] == 20, result
    assert set(result["by_server"]) == {"rs1", "rs2"}, result


# VI_NOPREEMPT (198.51.100.50): nopreempt deploys (both directors start it as BACKUP) and holds.
NOPREEMPT_VIP = "198.51.100.50"


def vip_holders(vip: str) -> list:
    return [n for n in DIRECTORS if f"inet {vip}/" in lab_host(n).check_output("ip -4 addr show dev lan0")]


def wait_for(what: str, check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_nopreempt_renders_backup_everywhere(lb1, lb2):
    for host in (lb1, lb2):
        conf = host.file("/etc/keepalived/keepalived.conf").content_string
        block = conf[conf.index("vrrp_instance VI_NOPREEMPT {"):]
        block = block[:block.index("\n}\n")]
        assert "state BACKUP" in block and "nopreempt" in block, block


def test_nopreempt_holds_after_the_holder_returns():
    """The holder's keepalived stops: the peer takes the VIP. It starts again: the VIP stays with the peer,
    while VI_LAB (which preempts) returns to lb1."""
    wait_for("one director holds the nopreempt VIP", lambda: len(vip_holders(NOPREEMPT_VIP)) == 1)
    (holder,) = vip_holders(NOPREEMPT_VIP)
    other = next(n for n in DIRECTORS if n != holder)
    h = lab_host(holder)
    h.check_output("systemctl stop keepalived")
    try:
        wait_for("the peer takes the nopreempt VIP", lambda: vip_holders(NOPREEMPT_VIP) == [other])
    finally:
        h.check_output("systemctl start keepalived")
    wait_for("VI_LAB preempts back to lb1", lambda: vip_holders(VIP) == ["lb1"], timeout=60)
    time.sleep(6)  # well past a preemption (3 x advert_int + skew): the peer must still hold it
    assert vip_holders(NOPREEMPT_VIP) == [other]
    result = probe(f"{VIP}:80", 20)
    assert result["ok"] == 20, result

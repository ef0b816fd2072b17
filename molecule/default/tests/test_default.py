"""One NAT VIP end to end on real kernels: modules, sysctls, VRRP, IPVS table, and traffic."""
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

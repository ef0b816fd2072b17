"""keepalived.conf rendering from the model: virtual_server_group, digest checks, mysql credentials by file.

The role's templates rendered with Jinja2 the way Ansible's template module does (trim_blocks), with
Ansible's core filters and tests; keepalived itself judges the result in the lab (keepalived --config-test).
"""
import importlib.machinery
import importlib.util
import re
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.filter.mathstuff import FilterModule as MathFilters
from ansible.plugins.test.core import TestModule as CoreTests

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import normalize_services, normalize_vrrp_instances

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "keepalived"
VRRP = [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"lb1": 150, "lb2": 100},
         "virtual_ipaddresses": ["198.51.100.10/24", "198.51.100.11/24"]}]
SERVICES = [
    {"name": "web", "vips": ["198.51.100.10", "198.51.100.11"], "port": 443, "scheduler": "wrr",
     "health_check": {"type": "https", "path": "/health", "digest": "d41d8cd98f00b204e9800998ecf8427e"},
     "real_servers": ["203.0.113.21", {"address": "203.0.113.22", "weight": 3}]},
    {"name": "db", "vip": "198.51.100.10", "port": 3306,
     "health_check": {"type": "mysql", "user": "lvsfleet_check", "password": "s3cret-pw"},
     "real_servers": ["203.0.113.21"]},
    {"name": "db-greeting", "vip": "198.51.100.11", "port": 3306, "health_check": {"type": "mysql"},
     "real_servers": ["203.0.113.22"]},
    {"name": "logs-udp", "vip": "198.51.100.10", "port": 514, "protocol": "udp",
     "health_check": {"type": "syslog", "transport": "udp"}, "real_servers": [{"address": "203.0.113.21", "port": 5514}]},
    {"name": "logs-tcp", "vip": "198.51.100.10", "port": 514, "protocol": "tcp",
     "health_check": {"type": "syslog", "transport": "tcp"}, "real_servers": [{"address": "203.0.113.21", "port": 5514}]},
]
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(CoreFilters().filters())
    env.filters.update(MathFilters().filters())
    env.tests.update(CoreTests().tests())
    return env


def render(services=SERVICES, host="lb1", check_source="203.0.113.11", vrrp=VRRP, suspended=()) -> str:
    env = environment()
    model = normalize_services(services)
    vrrp = normalize_vrrp_instances(vrrp, ["lb1", "lb2"])
    return env.get_template("keepalived.conf.j2").render(
        ansible_managed="managed", inventory_hostname=host, keepalived_router_id=host,
        keepalived_script_user="keepalived_script", keepalived_garp_master_repeat=3,
        keepalived_garp_master_refresh=0, keepalived_priority_override=0, keepalived_model_services=model,
        keepalived_nopreempt_suspended_for=list(suspended),
        keepalived_model_scripts=[], keepalived_my_vrrp=vrrp, keepalived_sync_groups=[],
        keepalived_check_credentials_dir="/etc/keepalived/lvsfleet-checks",
        keepalived_syslog_probe=ROLE_VARS["keepalived_syslog_probe"], keepalived_check_source=check_source)


def block(text: str, header: str) -> str:
    """The block that starts with `header` (to its matching brace)."""
    start = text.index(header)
    depth, i = 0, text.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
        i += 1


def test_a_group_renders_once_with_every_vip_and_one_virtual_server():
    conf = render()
    group = block(conf, "virtual_server_group web ")
    assert re.findall(r"^\s+(\S+ \d+)$", group, re.M) == ["198.51.100.10 443", "198.51.100.11 443"]
    assert conf.count("virtual_server_group web ") == 1 and conf.count("virtual_server group web ") == 1
    vs = block(conf, "virtual_server group web ")
    assert "lb_algo wrr" in vs and vs.count("real_server ") == 2 and "weight 3" in vs
    assert "virtual_server 198.51.100.10 443" not in conf and "virtual_server 198.51.100.11 443" not in conf


def test_group_members_are_kernel_services_in_the_model():
    members = [s for s in normalize_services(SERVICES) if s["group"] == "web"]
    assert [(s["vip"], s["port"]) for s in members] == [("198.51.100.10", 443), ("198.51.100.11", 443)]
    assert all(s["real_servers"] == members[0]["real_servers"] for s in members)
    assert normalize_services(SERVICES[1:2])[0]["group"] is None


def test_https_digest_check():
    vs = block(render(), "virtual_server group web ")
    check = block(vs, "SSL_GET")
    assert "path /health" in check and "digest d41d8cd98f00b204e9800998ecf8427e" in check and "status_code 200" in check


def test_syslog_checks_are_keepalived_native_and_probe_with_a_syslog_message():
    conf = render()
    assert conf.count("MISC_CHECK") == 2, "only the two mysql services run a script"
    udp = block(conf, "UDP_CHECK")
    payload = re.search(r"payload (\w+)", udp).group(1)
    assert bytes.fromhex(payload) == b"<15>1 - lvsfleet-check - - - - health probe\n"
    assert "require_reply" not in udp and "connect_port 5514" in udp
    tcp = block(conf[conf.index("protocol TCP", conf.index("virtual_server 198.51.100.10 514")):], "TCP_CHECK")
    assert "connect_port 5514" in tcp


def test_mysql_password_goes_to_a_file_never_into_the_config():
    conf = render()
    assert "s3cret-pw" not in conf
    db = block(conf, "virtual_server 198.51.100.10 3306")
    assert ('misc_path "/usr/local/libexec/lvsfleet/check-mysql 203.0.113.21 3306 2 '
            '/etc/keepalived/lvsfleet-checks/db.json"') in db
    plain = block(conf, "virtual_server 198.51.100.11 3306")
    assert 'misc_path "/usr/local/libexec/lvsfleet/check-mysql 203.0.113.22 3306 2"' in plain


def load_check_mysql():
    path = ROLE / "files" / "check-mysql"
    loader = importlib.machinery.SourceFileLoader("check_mysql", str(path))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("check_mysql", loader))
    loader.exec_module(mod)
    return mod


# The stored hash of the password "password" (SHA1(SHA1(password)), as MySQL's PASSWORD() shows it).
STORED_PASSWORD_HASH = bytes.fromhex("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")


def test_native_password_token_is_what_a_server_accepts():
    import hashlib
    check = load_check_mysql()
    salt = bytes(range(1, 21))
    token = check.native_password(b"password", salt)
    # The server's side: SHA1(token XOR SHA1(salt + stored)) must equal the stored hash.
    mask = hashlib.sha1(salt + STORED_PASSWORD_HASH).digest()
    assert hashlib.sha1(bytes(a ^ b for a, b in zip(token, mask))).digest() == STORED_PASSWORD_HASH
    assert check.native_password(b"wrong", salt) != token and check.native_password(b"", salt) == b""


def greeting(salt: bytes) -> bytes:
    return (b"\x0a" + b"10.11.6-MariaDB-0+deb12u1\0" + (7).to_bytes(4, "little") + salt[:8] + b"\0"
            + b"\xfe\xf7" + b"\x2d" + b"\x02\x00" + b"\xff\x81" + bytes([21]) + b"\0" * 10 + salt[8:] + b"\0"
            + b"mysql_native_password\0")


def test_greeting_scramble_and_error_packets():
    check = load_check_mysql()
    salt = b"abcdefgh" + b"ijklmnopqrst"
    assert check.parse_greeting(greeting(salt)) == salt
    err = b"\xff\x10\x04Too many connections"
    try:
        check.parse_greeting(err)
    except check.Down as exc:
        assert "error instead of a greeting" in str(exc)
    else:
        raise AssertionError("an error packet must be down")
    assert check.error_text(b"\xff\x15\x04#28000Access denied for user") == "error 1045: Access denied for user"


def test_only_the_first_vip_is_advertised():
    vi = block(render(), "vrrp_instance VI_1 ")
    assert block(vi, "virtual_ipaddress {").count("dev lan0") == 1 and "198.51.100.10/24 dev lan0" in vi
    assert "198.51.100.11/24 dev lan0" in block(vi, "virtual_ipaddress_excluded {")


@pytest.mark.parametrize("suspended", [(), ("lb2",), ("lb9",)])
@pytest.mark.parametrize("host", ["lb1", "lb2"])
def test_nopreempt_is_left_out_where_maintenance_moves_a_member_away(host, suspended):
    """maintenance.yml start lists the director it moves away: nopreempt would keep that director MASTER at
    priority 1, so the instances it is a member of lose nopreempt on every director meanwhile; instances it has
    no part in keep it (both start BACKUP either way: keepalived needs that for nopreempt)."""
    vrrp = [dict(VRRP[0], nopreempt=True)]
    vi = block(render(host=host, vrrp=vrrp, suspended=suspended), "vrrp_instance VI_1")
    assert ("nopreempt" in vi) is ("lb2" not in suspended)
    assert "state BACKUP" in vi and "preempt_delay" not in vi

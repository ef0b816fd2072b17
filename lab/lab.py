#!/usr/bin/env python3
"""Control the lvsfleet lab: QEMU/TCG guests on an isolated L2 segment.

    lab.py up        build or reuse the image, boot every host of inventory/lab/hosts.yml in parallel
    lab.py down      stop every guest, remove taps, bridge and overlays
    lab.py status    one line per guest
    lab.py ssh HOST [CMD...]   run a command in a guest (host key checked)
    lab.py reboot HOST         reboot a guest from inside and wait until it is ready again
    lab.py power-off HOST      cut a guest's power (kill its QEMU); power-on HOST boots it again
    lab.py reimage HOST        replace a guest by a fresh server (new disk, new host key, pinned)
    lab.py probe VIP:PORT N    N HTTP requests from the client guest; prints the demo summary line
    lab.py ecmp-demo VIP:PORT N   the same through the anycast lab's router; each director's share of them
    lab.py snapshot save [NAME]   keep every running guest's whole state (memory, devices, disk) as NAME
                                  ("converged" by default), keyed by the files the lab is made of
    lab.py snapshot load [NAME]   put every guest back to NAME in seconds; exit 3 if there is none for
                                  today's files (--any: whatever the key)
    lab.py snapshot list          the lab's snapshots and their keys
    lab.py converged     up, then the converged snapshot restored, or the first converge run and snapshotted
LVSFLEET_LAB=ecmp selects the anycast lab (inventory/lab-ecmp) instead of the VRRP lab (inventory/lab).

The lab segment is a host bridge (lvsfleet0) with no uplink, no IPv4 address and IPv6 disabled:
frames between guests stay inside the host kernel and reach nothing outside the lab. Each guest's
management NIC is QEMU user networking with restrict=on (no route out) and one port forward,
127.0.0.1:<ansible_port> -> guest:22.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
# Two labs, one at a time (booting one takes the other down): "vrrp", the director pair and its scenarios (the
# default), and "ecmp", three anycast directors behind a BGP router (LVSFLEET_LAB=ecmp). Each has its own
# inventory, QEMU process names, tap names and disks, so nothing of one is ever taken for the other's.
LABS = {
    "vrrp": {"inventory": "lab", "qemu": "lvsfleet-lab-", "tap": "lvsf-", "vms": "vms"},
    "ecmp": {"inventory": "lab-ecmp", "qemu": "lvsfleet-ecmp-", "tap": "lvse-", "vms": "vms-ecmp"},
}
LAB_NAME = os.environ.get("LVSFLEET_LAB", "vrrp") or "vrrp"
if LAB_NAME not in LABS:
    sys.exit(f"lab: LVSFLEET_LAB={LAB_NAME!r} is not one of {', '.join(LABS)}")
LAB = LABS[LAB_NAME]
INVENTORY_DIR = REPO / "inventory" / LAB["inventory"]
INVENTORY = INVENTORY_DIR / "hosts.yml"
# Keys, known_hosts, disks: root's, in a directory nobody else can create first (not under world-writable
# /var/tmp). Also named in inventory/lab/group_vars/*/connection.yml and molecule/resources/labtest.py.
STATE = Path("/var/lib/lvsfleet-lab")
HOST_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")  # lab host names become paths and QEMU/tap names
BRIDGE = "lvsfleet0"
TAP_PREFIX = LAB["tap"]
QEMU_NAME_PREFIX = LAB["qemu"]
BOOT_TIMEOUT = int(os.environ.get("LVSFLEET_BOOT_TIMEOUT", "420"))
GUEST_MEM_MB = {"directors": 512, "real_servers": 512,  # real servers: MariaDB beside the backends
                "clients": 640}  # the client: load generators, its own keepalived and Prometheus
DEFAULT_MEM_MB = 384


class LabError(Exception):
    pass


def private_dir(path: Path) -> Path:
    """`path` as a directory only this user can use: made 0700 if missing, refused if it is a symlink, belongs
    to someone else or is open to others (a directory another user made first is never trusted)."""
    parent = os.lstat(path.parent)
    if parent.st_uid not in (0, os.geteuid()) or parent.st_mode & 0o022:
        raise LabError(f"{path.parent}: must belong to root (or you) and not be writable by others")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise LabError(f"{path}: refusing a lab directory that is a symlink, not yours, or open to others "
                       f"(mode {stat.filemode(st.st_mode)}, owner uid {st.st_uid}); remove it")
    return path


def log(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, text=True, **kw)


def hosts(inventory: Path | None = None) -> list[dict]:
    """Every lab host (of this lab, or of `inventory`), in inventory order, with its group."""
    inv = yaml.safe_load((inventory or INVENTORY).read_text())
    out, seen = [], {}
    for group, body in inv["all"]["children"].items():
        for name, hv in (body.get("hosts") or {}).items():
            if not HOST_NAME.fullmatch(str(name)):
                raise LabError(f"{INVENTORY}: lab host name {name!r} must be 1-31 lowercase letters, digits or '-' "
                               f"(it names files, a tap device and a QEMU process)")
            if name in seen:  # a host in a second group: one guest, the variables of both
                seen[name].update(hv or {})
                continue
            seen[name] = {"name": name, "group": group, **(hv or {})}
            out.append(seen[name])
    for i, h in enumerate(out):
        h["index"] = i + 1
    return out


def vm_dir(name: str, lab: dict = LAB) -> Path:
    return STATE / lab["vms"] / name


def pid_of(name: str, lab: dict = LAB) -> int | None:
    """The guest's QEMU pid, only if that process is really our QEMU for this guest."""
    pidfile = vm_dir(name, lab) / "qemu.pid"
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if (lab["qemu"] + name).encode() in cmdline else None


def other_labs() -> list[tuple[dict, list[dict]]]:
    """The other labs and their hosts."""
    return [(lab, hosts(REPO / "inventory" / lab["inventory"] / "hosts.yml"))
            for name, lab in LABS.items() if name != LAB_NAME]


def ssh_port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- network
def write_sysctl(path: str, value: str) -> None:
    p = Path("/proc/sys") / path
    if p.exists():
        p.write_text(value)


def link_exists(dev: str) -> bool:
    return Path("/sys/class/net", dev).exists()


def make_bridge() -> None:
    if not link_exists(BRIDGE):
        run(["ip", "link", "add", BRIDGE, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
    write_sysctl(f"net/ipv6/conf/{BRIDGE}/disable_ipv6", "1")
    run(["ip", "addr", "flush", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    # If the host filters bridged frames through iptables, a DROP forward policy would cut the lab.
    if Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists():
        if Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1":
            log("warning: br_netfilter is active; host iptables FORWARD rules apply to lab frames")


def make_tap(tap: str) -> None:
    if link_exists(tap):
        run(["ip", "link", "del", tap], check=False)
    run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
    write_sysctl(f"net/ipv6/conf/{tap}/disable_ipv6", "1")
    run(["ip", "link", "set", tap, "master", BRIDGE])
    run(["ip", "link", "set", tap, "up"])


# ---------------------------------------------------------------- up / down
def ensure_key() -> str:
    key = private_dir(STATE) / "id_ed25519"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lvsfleet-lab", "-f", str(key)])
    return (STATE / "id_ed25519.pub").read_text().strip()


def ensure_onetime_key() -> str:
    """The initial credential of hosts with `lab_credential: onetime`: a key made for this lab boot only."""
    key = private_dir(STATE) / "onetime_ed25519"
    for f in (key, STATE / "onetime_ed25519.pub"):
        f.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lvsfleet-lab-onetime", "-f", str(key)])
    return onetime_line()


def onetime_line() -> str:
    # As an installer or rescue image writes it: options in front, its own comment. bootstrap.yml must revoke
    # it by its key, not by an exact copy of the .pub line.
    blob = (STATE / "onetime_ed25519.pub").read_text().split()[:2]
    return f"no-agent-forwarding,no-X11-forwarding {blob[0]} {blob[1]} installer@rescue"


def ensure_root_password() -> str:
    """The initial credential of hosts with `lab_credential: password`: a root password made for this lab boot.

    The controller gets it only through Ansible Vault (root_password.vault, encrypted with the lab's vault
    id, read by bootstrap.yml with the unvault lookup); the guest gets only its SHA-512 crypt hash. The
    plain text exists in this process and in pipes, never in a file or an argv.
    """
    vault = private_dir(STATE) / "root_password.vault"
    vault.unlink(missing_ok=True)
    password = secrets.token_urlsafe(18)
    run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt", "--vault-id",
         f"lab@{REPO / 'inventory' / 'lab-vault-password.lab'}", "--encrypt-vault-id", "lab",
         "--output", str(vault), "-"], input=password, stdout=subprocess.DEVNULL)
    vault.chmod(0o600)
    crypt = run(["openssl", "passwd", "-6", "-stdin"], input=password, stdout=subprocess.PIPE).stdout.strip()
    if not crypt.startswith("$6$"):
        raise LabError("openssl passwd -6 did not print a SHA-512 crypt hash")
    return crypt


def qemu_cmd(h: dict, image: Path, credential: str) -> list[str]:
    d = vm_dir(h["name"])
    i = h["index"]
    append = [
        "console=ttyS0", "quiet", "root=/dev/vda", "rw", "panic=10", "mitigations=off",
        "systemd.show_status=false", "random.trust_cpu=on",
        f"lvs.host={h['name']}",
        f"lvs.addr={','.join(h.get('lab_addresses', []))}",
    ]
    if h.get("lab_credential") == "password":
        append.append(f"lvs.pwhash={base64.b64encode(credential.encode()).decode()}")
    else:
        append.append(f"lvs.key={base64.b64encode(credential.encode()).decode()}")
    if h.get("lab_gateway"):
        append.append(f"lvs.gw={h['lab_gateway']}")
    mem = GUEST_MEM_MB.get(h["group"], DEFAULT_MEM_MB)
    return [
        "qemu-system-x86_64", "-name", QEMU_NAME_PREFIX + h["name"],
        "-machine", "pc", "-accel", "tcg,thread=multi", "-m", str(mem),
        "-nodefaults", "-no-user-config", "-display", "none",
        "-serial", f"file:{d / 'console.log'}",
        "-kernel", str(image / "vmlinux"), "-initrd", str(image / "initrd.img"),
        "-append", " ".join(append),
        "-drive", f"file={d / 'disk.qcow2'},if=virtio,format=qcow2,cache=unsafe",
        "-device", "virtio-rng-pci",
        "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{h['ansible_port']}-:22",
        # event_idx=off: with it, a busy director's lan0 TX queue stalled for good under TCG (guest:
        # "NETDEV WATCHDOG: transmit queue 0 timed out", QEMU 7.2) in a long load test.
        "-device", f"virtio-net-pci,netdev=mgmt,mac=52:54:00:aa:00:{i:02x},event_idx=off",
        "-netdev", f"tap,id=lan,ifname={TAP_PREFIX}{h['name']},script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=lan,mac=52:54:00:bb:00:{i:02x},event_idx=off",
        # The monitor that takes and restores snapshots (lab.py snapshot): root's, in the guest's own directory.
        "-qmp", f"unix:{d / 'qmp.sock'},server=on,wait=off",
        "-daemonize", "-pidfile", str(d / "qemu.pid"),
    ]


def lab_is_up() -> bool:
    return all(pid_of(h["name"]) and ssh_port_open(h["ansible_port"]) for h in hosts())


def up() -> None:
    if lab_is_up() and (STATE / "known_hosts").exists():
        log("already up; reusing it")
        return
    for lab, guests in other_labs():
        if any(pid_of(h["name"], lab) for h in guests):
            log(f"another lab ({lab['inventory']}) is up; taking it down first (one lab at a time)")
            down(lab, guests)
    if any(pid_of(h["name"]) for h in hosts()):
        log("partly up; taking it down first")
        down()
    t0 = time.monotonic()
    image = Path(run([str(REPO / "lab" / "build-image.sh")], stdout=subprocess.PIPE).stdout.strip().splitlines()[-1])
    t_image = time.monotonic() - t0
    keys = {"lab": ensure_key(), "onetime": ensure_onetime_key(), "password": ensure_root_password()}
    try:
        boot(image, keys)
    except BaseException as exc:
        log(f"up failed ({exc}); cleaning up")
        down()
        raise
    log(f"up: image {t_image:.1f} s, boot {time.monotonic() - t0 - t_image:.1f} s ({len(hosts())} guests)")


def boot(image: Path, keys: dict[str, str]) -> None:
    make_bridge()
    forget_snapshots()  # new disks: no snapshot of the old ones is in them
    t0 = time.monotonic()
    for h in hosts():
        d = vm_dir(h["name"])
        d.mkdir(parents=True, exist_ok=True)
        for f in ("disk.qcow2", "console.log", "qemu.pid", "qmp.sock"):
            (d / f).unlink(missing_ok=True)
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
             "-b", str(image / "rootfs.qcow2"), str(d / "disk.qcow2")])
        make_tap(TAP_PREFIX + h["name"])
        run(qemu_cmd(h, image, keys[h.get("lab_credential", "lab")]))
    pending = {h["name"]: h for h in hosts()}
    known = {}
    while pending:
        if time.monotonic() - t0 > BOOT_TIMEOUT:
            raise LabError(f"guests not ready after {BOOT_TIMEOUT} s: {', '.join(pending)} "
                           f"(see {STATE}/vms/<host>/console.log)")
        for name, h in list(pending.items()):
            if not pid_of(name):
                raise LabError(f"{name}: QEMU exited during boot (see {vm_dir(name) / 'console.log'})")
            text = (vm_dir(name) / "console.log").read_text(errors="replace")
            if "LVSFLEET-READY" in text:
                for line in text.splitlines():
                    if line.startswith("LVSFLEET-HOSTKEY "):
                        known[name] = f"[127.0.0.1]:{h['ansible_port']} {line.split(' ', 1)[1].strip()}"
                if name not in known:
                    raise LabError(f"{name}: no host key on the console")
                log(f"{name} ready after {time.monotonic() - t0:.1f} s")
                del pending[name]
        time.sleep(0.3)
    # Hosts booted with a one-time credential are not pinned here: bootstrap.yml pins them at first
    # contact, checked against the fingerprint of the key the guest printed on its console
    # (host_key_fingerprints/<host>).
    (STATE / "known_hosts").write_text("".join(known[h["name"]] + "\n" for h in hosts()
                                               if "lab_credential" not in h))
    fingerprints = STATE / "host_key_fingerprints"
    fingerprints.mkdir(exist_ok=True)
    for name, line in known.items():
        blob = base64.b64decode(line.split()[2])
        fp = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
        (fingerprints / name).write_text(fp + "\n")


def down(lab: dict = LAB, guests: list[dict] | None = None) -> None:
    for h in hosts() if guests is None else guests:
        name = h["name"]
        pid = pid_of(name, lab)
        if pid:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not pid_of(name, lab):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        d = vm_dir(name, lab)
        for f in ("disk.qcow2", "qemu.pid", "qmp.sock"):
            (d / f).unlink(missing_ok=True)
        tap = lab["tap"] + name
        if link_exists(tap):
            run(["ip", "link", "del", tap], check=False)
    if guests is None and not any(pid_of(h["name"], other) for other, hs in other_labs() for h in hs):
        if link_exists(BRIDGE):
            run(["ip", "link", "del", BRIDGE], check=False)
        (STATE / "known_hosts").unlink(missing_ok=True)
    (STATE / lab["vms"] / SNAPSHOTS).unlink(missing_ok=True)  # they lived in the disks just removed
    log(f"down ({lab['inventory']})")


def status() -> int:
    rc = 0
    for h in hosts():
        pid = pid_of(h["name"])
        port_ok = bool(pid) and ssh_port_open(h["ansible_port"])
        state = "up" if port_ok else ("booting" if pid else "down")
        rc |= state != "up"
        print(f"{h['name']:8} {state:8} ssh 127.0.0.1:{h['ansible_port']}  pid {pid or '-'}  "
              f"lan {','.join(h.get('lab_addresses', []))}")
    return rc


def ssh_argv(name: str) -> list[str]:
    h = next((h for h in hosts() if h["name"] == name), None)
    if h is None:
        raise LabError(f"no lab host named {name!r}")
    return ["ssh", "-q", "-p", str(h["ansible_port"]), "-i", str(STATE / "id_ed25519"),
            "-o", f"UserKnownHostsFile={STATE / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "root@127.0.0.1"]


def power_off(name: str) -> None:
    """Cut a guest's power (SIGKILL to its QEMU): no shutdown, no VRRP goodbye. Its disk stays."""
    pid = pid_of(name)
    if not pid:
        raise LabError(f"{name} is not running")
    os.kill(pid, signal.SIGKILL)
    while pid_of(name):
        time.sleep(0.05)
    log(f"{name} powered off")


def power_on(name: str) -> None:
    """Boot a powered-off guest from its existing disk and wait until it is ready."""
    h = next((h for h in hosts() if h["name"] == name), None)
    if h is None:
        raise LabError(f"no lab host named {name!r}")
    if pid_of(name):
        raise LabError(f"{name} is already running")
    image = Path(run([str(REPO / "lab" / "build-image.sh")], stdout=subprocess.PIPE).stdout.strip().splitlines()[-1])
    kind = h.get("lab_credential", "lab")
    if kind == "password":
        credential = ""  # empty: the guest keeps the password its disk already has
    elif kind == "onetime":
        credential = onetime_line()
    else:
        credential = (STATE / "id_ed25519.pub").read_text().strip()
    console = vm_dir(name) / "console.log"
    console.unlink(missing_ok=True)  # a fresh console log: READY means this boot
    t0 = time.monotonic()
    run(qemu_cmd(h, image, credential))
    wait_ready(name, console, 0, "power-on")
    log(f"{name} powered on and ready after {time.monotonic() - t0:.1f} s")


def reimage(name: str) -> None:
    """Replace a guest by a fresh server: power it off, give it a new disk from the image (a new host key, nothing
    deployed), boot it, and pin its new host key. For drills that add a director."""
    h = next((h for h in hosts() if h["name"] == name), None)
    if h is None or h.get("lab_credential"):
        raise LabError(f"{name!r}: not a lab host booted with the lab key")
    if pid_of(name):
        power_off(name)
    image = Path(run([str(REPO / "lab" / "build-image.sh")], stdout=subprocess.PIPE).stdout.strip().splitlines()[-1])
    d = vm_dir(name)
    (d / "disk.qcow2").unlink(missing_ok=True)
    forget_snapshots()  # the lab's snapshots no longer cover this guest
    run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image / "rootfs.qcow2"),
         str(d / "disk.qcow2")])
    console = d / "console.log"
    console.unlink(missing_ok=True)
    t0 = time.monotonic()
    run(qemu_cmd(h, image, (STATE / "id_ed25519.pub").read_text().strip()))
    wait_ready(name, console, 0, "reimage")
    key = next((line.split(" ", 1)[1].strip() for line in console.read_text(errors="replace").splitlines()
                if line.startswith("LVSFLEET-HOSTKEY ")), None)
    if key is None:
        raise LabError(f"{name}: no host key on the console")
    prefix = f"[127.0.0.1]:{h['ansible_port']} "
    known = STATE / "known_hosts"
    lines = [line for line in known.read_text().splitlines() if not line.startswith(prefix)]
    known.write_text("".join(line + "\n" for line in lines + [prefix + key]))
    log(f"{name} reimaged and ready after {time.monotonic() - t0:.1f} s (new host key pinned)")


def wait_ready(name: str, console: Path, seen: int, what: str) -> None:
    """Wait until `console` shows more than `seen` READY markers (QEMU must stay up meanwhile)."""
    t0 = time.monotonic()
    while not console.exists() or console.read_text(errors="replace").count("LVSFLEET-READY") <= seen:
        if time.monotonic() - t0 > BOOT_TIMEOUT:
            raise LabError(f"{name}: not ready {BOOT_TIMEOUT} s after {what} (see {console})")
        if not pid_of(name):
            raise LabError(f"{name}: QEMU exited during {what} (see {console})")
        time.sleep(0.3)


def reboot(name: str) -> None:
    """Reboot one guest from inside (same disk, same host key) and wait until it is ready again."""
    console = vm_dir(name) / "console.log"
    before = console.read_text(errors="replace").count("LVSFLEET-READY")
    subprocess.call(ssh_argv(name) + ["systemctl", "reboot"])
    t0 = time.monotonic()
    wait_ready(name, console, before, "reboot")
    log(f"{name} rebooted and ready after {time.monotonic() - t0:.1f} s")


# ---------------------------------------------------------------- snapshots
# A converged lab is kept as a QEMU internal snapshot of every guest (memory, devices and disk, `savevm` in each
# guest's qcow2 overlay) and restored with `loadvm` in seconds, so a scenario starts from the converged lab instead
# of converging again and a scenario that changes the lab is put back instead of being undone by hand. Which
# snapshot exists, and for which key (make test's hash of the image, roles, playbooks, plugins and inventory), is
# kept in SNAPSHOTS beside the disks; `down` removes both, so a snapshot never outlives its lab boot.
SNAPSHOTS = "snapshots.json"
SNAPSHOT_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
SNAPSHOT_TIMEOUT = 300
# What a converged lab is made of: a change to any of these files makes a new key, and an old snapshot is not loaded.
KEYED = ("roles", "playbooks", "plugins", "meta", "inventory", "lab", "galaxy.yml", "ansible.cfg")


def state_key() -> str:
    """A hash of every file the converged lab depends on (the image's scripts, the roles, the playbooks, the
    plugins, the inventories), names and contents."""
    h = hashlib.sha256()
    for top in KEYED:
        root = REPO / top
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and
                                                     "__pycache__" not in p.parts)
        for f in files:
            h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class Qmp:
    """One guest's QMP monitor (its QEMU's unix socket): one command at a time, events skipped."""

    def __init__(self, name: str):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(SNAPSHOT_TIMEOUT)
        self.sock.connect(str(vm_dir(name) / "qmp.sock"))
        self.buf = b""
        self._reply()  # the greeting
        self.command("qmp_capabilities")

    def _reply(self) -> dict:
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise LabError(f"{self.name}: QEMU closed its monitor")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, execute: str, **arguments):
        self.sock.sendall(json.dumps({"execute": execute, "arguments": arguments}).encode() + b"\n")
        msg = self._reply()
        if "error" in msg:
            raise LabError(f"{self.name}: QMP {execute}: {msg['error'].get('desc', msg['error'])}")
        return msg.get("return", msg.get("QMP"))

    def hmp(self, line: str) -> str:
        """A human-monitor command; its printed output."""
        return self.command("human-monitor-command", **{"command-line": line}) or ""

    def hmp_silent(self, line: str) -> None:
        """A human-monitor command that prints only errors (savevm, loadvm): any output is a failure."""
        out = self.hmp(line).strip()
        if out:
            raise LabError(f"{self.name}: {line.split()[0]}: {out}")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Qmp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def forget_snapshots() -> None:
    (STATE / LAB["vms"] / SNAPSHOTS).unlink(missing_ok=True)


def snapshot_table() -> dict:
    try:
        return json.loads((STATE / LAB["vms"] / SNAPSHOTS).read_text())
    except (OSError, ValueError):
        return {}


def each_guest(action, guests: list[dict]) -> dict:
    """action(host) for every guest at once (each guest is its own QEMU process); their results by name. Every
    failure is reported, the first raised."""
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(guests) or 1) as pool:
        futures = {h["name"]: pool.submit(action, h) for h in guests}
    errors = {n: f.exception() for n, f in futures.items() if f.exception()}
    for n, e in errors.items():
        log(f"{n}: {e}")
    if errors:
        raise LabError(f"snapshot failed on {', '.join(errors)}")
    return {n: f.result() for n, f in futures.items()}


def close_ssh_masters() -> float:
    """End the ssh connection masters Ansible keeps (ControlPersist, ~/.ansible/cp): their TCP connections belong
    to the guests' state before a loadvm and would hang the next command that reuses them. Every master of this
    user goes (their socket names are hashes, which do not say which host they reach); the next command opens a
    new one. All at once, each given 5 s; a master that does not answer loses its socket, so no later command
    reaches it. Snapshots are for the lab's own machine, not for a controller shared with other work. Returns the
    seconds it took."""
    t0 = time.monotonic()
    cp = Path.home() / ".ansible" / "cp"
    socks = []
    for path in cp.iterdir() if cp.is_dir() else []:
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                socks.append(path)
        except FileNotFoundError:  # a master that ended meanwhile
            pass
    procs = {sock: subprocess.Popen(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "lvsfleet-lab"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for sock in socks}
    for sock, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, 5 - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            log(f"{sock.name}: its ssh master did not answer in 5 s; socket removed")
            sock.unlink(missing_ok=True)
    return time.monotonic() - t0


def snapshot_save(name: str, key: str) -> None:
    """Save every running guest as snapshot `name` (each guest pauses for its own savevm, a few seconds)."""
    if not SNAPSHOT_NAME.fullmatch(name):
        raise LabError(f"snapshot name {name!r}: 1-31 lowercase letters, digits or '-', a letter first")
    guests = hosts()
    down_now = [h["name"] for h in guests if not pid_of(h["name"])]
    if down_now:
        raise LabError(f"cannot snapshot: {', '.join(down_now)} not running")
    t0 = time.monotonic()
    table = snapshot_table()
    if table.pop(name, None) is not None:  # a savevm that fails half way must not leave the old entry valid
        (STATE / LAB["vms"] / SNAPSHOTS).write_text(json.dumps(table, indent=1) + "\n")
    close_ssh_masters()

    def save(h):
        with Qmp(h["name"]) as q:
            q.hmp_silent(f"savevm {name}")
    each_guest(save, guests)
    table[name] = {"key": key, "taken": time.time(), "guests": [h["name"] for h in guests]}
    path = STATE / LAB["vms"] / SNAPSHOTS
    path.write_text(json.dumps(table, indent=1) + "\n")
    log(f"snapshot {name} saved ({len(guests)} guests, {time.monotonic() - t0:.1f} s, key {key or '-'})")


def snapshot_load(name: str, key: str | None) -> int:
    """Put every guest back to snapshot `name`; 3 if the lab has none (or one for another key)."""
    entry = snapshot_table().get(name)
    guests = hosts()
    if entry is None or (key is not None and entry.get("key") != key):
        log(f"no snapshot {name!r}" + ("" if entry is None else f" for key {key} (it has {entry.get('key')})"))
        return 3
    missing = [h["name"] for h in guests if h["name"] not in entry["guests"] or not pid_of(h["name"])]
    if missing:
        raise LabError(f"snapshot {name}: {', '.join(missing)} not running or not in it")

    def has(h):
        with Qmp(h["name"]) as q:
            return bool(re.search(rf"\s{re.escape(name)}\s", q.hmp("info snapshots")))
    lacking = [n for n, ok in each_guest(has, guests).items() if not ok]
    if lacking:  # disks replaced since (a reimage, a fresh boot): the entry is stale
        log(f"snapshot {name}: not on the disk of {', '.join(lacking)}; forgotten")
        forget_snapshots()
        return 3
    t0 = time.monotonic()
    t_close = close_ssh_masters()

    def load(h):
        with Qmp(h["name"]) as q:
            q.hmp_silent(f"loadvm {name}")
            if q.command("query-status").get("status") != "running":
                q.command("cont")
    each_guest(load, guests)
    t_load = time.monotonic() - t0 - t_close
    set_clocks(guests)
    log(f"snapshot {name} loaded ({len(guests)} guests, ssh masters closed {t_close:.1f} s, loadvm {t_load:.1f} s, "
        f"clocks {time.monotonic() - t0 - t_close - t_load:.1f} s)")
    return 0


def set_clocks(guests: list[dict]) -> None:
    """A restored guest's clock reads the time of its snapshot: step it to the host's (as NTP would after a
    resume). Hosts not yet reachable with the lab's key (one-time credential, before bootstrap.yml) keep theirs."""
    def step(h):
        if h.get("lab_credential"):
            return
        argv = ssh_argv(h["name"]) + ["date", "-u", "-s", f"@{time.time():.3f}"]
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, timeout=60)
    each_guest(step, guests)


# The first converge of each lab: its playbook and inventory.
CONVERGE = {"vrrp": ["-i", "inventory/lab", "lab/site.yml"], "ecmp": ["-i", "inventory/lab-ecmp", "lab/site.yml"]}


def converged() -> None:
    """The lab up and converged, quickly when it can be: boot it (or reuse it), restore the converged snapshot
    when there is one for today's files, else run the lab's first converge and snapshot it."""
    up()
    if snapshot_load("converged", state_key()) == 0:
        return
    t0 = time.monotonic()
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), *CONVERGE[LAB_NAME]]
    log(f"converging: {' '.join(argv[1:])}")
    # The lab's own roles (lab/roles), which its inventory applies through lvs_host_roles; ansible.cfg names none.
    env = dict(os.environ, ANSIBLE_ROLES_PATH=os.environ.get("ANSIBLE_ROLES_PATH") or str(REPO / "lab" / "roles"))
    subprocess.run(argv, cwd=REPO, check=True, env=env)
    log(f"converged in {time.monotonic() - t0:.1f} s")
    snapshot_save("converged", state_key())


def snapshot_list() -> int:
    for name, entry in snapshot_table().items():
        age = time.time() - entry.get("taken", 0)
        print(f"{name:16} key {entry.get('key') or '-'}  taken {age:.0f} s ago  {','.join(entry['guests'])}")
    return 0


def client_probe(target: str, count: int) -> dict:
    """Run lab/probe.py on the client guest: `count` HTTP requests to `target`; its tally."""
    script = (REPO / "lab" / "probe.py").read_bytes()
    out = subprocess.run(ssh_argv("client") + ["python3", "-", target, str(count)], input=script,
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return json.loads(out.strip().splitlines()[-1])


def probe(target: str, count: int) -> int:
    """Run lab/probe.py on the client guest; print its JSON and one summary line."""
    result = client_probe(target, count)
    print(json.dumps(result))
    servers = " ".join(f"{k}={v}" for k, v in result["by_server"].items()) or "none"
    print(f"demo: {result['ok']}/{count} requests via VIP {target} -> {servers}")
    return 0 if result["ok"] == count else 1


def service_conns(director: str, target: str) -> int:
    """Connections IPVS has scheduled for the TCP service `target` on `director` so far (ipvsadm --stats; the
    kernel refreshes these counters every 2 s)."""
    out = subprocess.run(ssh_argv(director) + ["ipvsadm", "-Ln", "--stats", "--exact", "-t", target],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[:2] == ["TCP", target]:
            return int(fields[2])
    raise LabError(f"{director}: no IPVS service {target}")


def ecmp_demo(target: str, count: int) -> int:
    """`count` requests from the client through the router to the anycast VIP; print one line with the share of
    each director, counted from its own IPVS counters (connections scheduled during the run)."""
    directors = [h["name"] for h in hosts() if h["group"] == "directors"]
    before = {d: service_conns(d, target) for d in directors}
    result = client_probe(target, count)
    time.sleep(4.5)  # the kernel refreshes the counters ipvsadm reads every 2 s: two refreshes
    share = {d: service_conns(d, target) - before[d] for d in directors}
    print(json.dumps(dict(result, by_director=share)))
    print(f"ecmp: {result['ok']}/{count} requests via VIP {target} -> "
          + " ".join(f"{d}={n}" for d, n in share.items()))
    return 0 if result["ok"] == count and all(share.values()) else 1


def client_side_demo(target: str, count: int, directors=("lb1", "lb2")) -> int:
    """Stop keepalived on every director, send `count` requests from the client guest to its client-side VIP,
    print one line counted from the real servers' answers, and start keepalived again."""
    for d in directors:
        subprocess.run(ssh_argv(d) + ["systemctl", "stop", "keepalived"], check=True)
    try:
        for d in directors:  # keepalived is gone once its VIPs are
            t0 = time.monotonic()
            while subprocess.run(ssh_argv(d) + ["pidof", "keepalived"], stdout=subprocess.DEVNULL).returncode == 0:
                if time.monotonic() - t0 > 30:
                    raise LabError(f"{d}: keepalived still runs 30 s after systemctl stop")
                time.sleep(0.5)
        result = client_probe(target, count)
        print(json.dumps(result))
        servers = " ".join(f"{k}={v}" for k, v in result["by_server"].items()) or "none"
        print(f"client-side: {result['ok']}/{count} requests via VIP {target} with both directors stopped "
              f"-> {servers}")
        return 0 if result["ok"] == count else 1
    finally:
        for d in directors:
            subprocess.run(ssh_argv(d) + ["systemctl", "start", "keepalived"], check=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up")
    sub.add_parser("converged", help="up and converged: the snapshot restored, else converge and snapshot")
    sub.add_parser("down")
    sub.add_parser("status")
    p = sub.add_parser("ssh")
    p.add_argument("host")
    p.add_argument("command", nargs=argparse.REMAINDER)
    for verb in ("reboot", "power-off", "power-on", "reimage"):
        p = sub.add_parser(verb)
        p.add_argument("host")
    p = sub.add_parser("probe")
    p.add_argument("target", help="VIP:PORT")
    p.add_argument("count", type=int)
    p = sub.add_parser("ecmp-demo", help="requests to the anycast VIP, each director's share from its IPVS counters")
    p.add_argument("target", help="VIP:PORT (the anycast lab's VIP)")
    p.add_argument("count", type=int)
    p = sub.add_parser("snapshot", help="save, load or list snapshots of the whole running lab")
    p.add_argument("action", choices=("save", "load", "list"))
    p.add_argument("name", nargs="?", default="converged")
    p.add_argument("--any", action="store_true", help="load: even a snapshot taken before the files changed")
    p = sub.add_parser("client-side-demo", help="stop keepalived on the directors, probe a client-side VIP")
    p.add_argument("target", help="VIP:PORT (a VIP the client balances itself)")
    p.add_argument("count", type=int)
    args = ap.parse_args()
    try:
        if args.cmd in ("up", "converged"):
            if os.geteuid() != 0:
                raise LabError("must run as root (bridge and tap devices)")
            for tool in ("qemu-system-x86_64", "qemu-img", "ssh-keygen", "ip"):
                if not shutil.which(tool):
                    raise LabError(f"{tool} not found: run `make setup`")
            up() if args.cmd == "up" else converged()
        elif args.cmd == "down":
            down()
        elif args.cmd == "status":
            return status()
        elif args.cmd == "ssh":
            return subprocess.call(ssh_argv(args.host) + args.command)
        elif args.cmd == "reboot":
            reboot(args.host)
        elif args.cmd == "power-off":
            power_off(args.host)
        elif args.cmd == "power-on":
            power_on(args.host)
        elif args.cmd == "reimage":
            reimage(args.host)
        elif args.cmd == "probe":
            return probe(args.target, args.count)
        elif args.cmd == "ecmp-demo":
            return ecmp_demo(args.target, args.count)
        elif args.cmd == "snapshot":
            if args.action == "save":
                snapshot_save(args.name, state_key())
            elif args.action == "load":
                return snapshot_load(args.name, None if args.any else state_key())
            else:
                return snapshot_list()
        elif args.cmd == "client-side-demo":
            return client_side_demo(args.target, args.count)
    except (LabError, subprocess.CalledProcessError) as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

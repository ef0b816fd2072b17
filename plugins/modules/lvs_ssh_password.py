#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Join a worker that accepts only a password: install a public key over SSH (paramiko), host key checked."""
from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_ssh_password
short_description: Install a public key on a worker that accepts only a password (paramiko)
description:
  - Runs on the management host (delegated to localhost). Opens an SSH transport with paramiko, refuses the
    worker unless its host key has the expected SHA256 fingerprint (checked before the password is sent),
    authenticates with the password and appends the key to the user's C(~/.ssh/authorized_keys) if missing.
  - The remote command is a constant; the key travels on stdin, so no inventory string becomes command text.
  - With I(state=probe) nothing is changed; the result says whether the password is accepted (used to prove
    that password logins are off after bootstrap).
  - The password is a no_log parameter; it appears in no result, message or log.
options:
  host:
    description: Address or name of the worker.
    type: str
    required: true
  port:
    description: SSH port.
    type: int
    default: 22
  user:
    description: User to log in as.
    type: str
    required: true
  password:
    description: The user's password (from Ansible Vault or a prompt).
    type: str
    required: true
  host_key_fingerprint:
    description: The SHA256 fingerprint (C(SHA256:...)) the worker's ed25519 host key must have.
    type: str
    required: true
  key:
    description: Public key line to authorize (type, base64 blob, optional comment); state=present.
    type: str
  state:
    description: C(present) installs I(key); C(probe) only tries the password.
    type: str
    choices: [present, probe]
    default: present
  timeout:
    description: Seconds for the TCP connect and the SSH handshake.
    type: int
    default: 30
requirements:
  - paramiko (the Python library, for the interpreter the module runs with on the management host; the
    collection's C(meta/ee-requirements.txt) lists it)
attributes:
  check_mode:
    support: full
    description: Logs in and looks for the key, but does not add it; C(changed) says whether it would.
  diff_mode:
    support: none
    description: Returns no diff.
author: lvsfleet maintainers (@lvsfleet)
"""

EXAMPLES = r"""
- name: Authorize the management key on a worker that accepts only a password
  lvsfleet.lvs.lvs_ssh_password:
    host: 192.0.2.21
    user: admin
    password: "{{ vault_initial_password }}"
    host_key_fingerprint: SHA256:3q2+7wXyZ0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456
    key: "{{ lookup('ansible.builtin.file', '~/.ssh/lvsfleet_ed25519.pub') }}"
  delegate_to: localhost

- name: Prove that the worker no longer accepts the password
  lvsfleet.lvs.lvs_ssh_password:
    host: 192.0.2.21
    user: admin
    password: "{{ vault_initial_password }}"
    host_key_fingerprint: SHA256:3q2+7wXyZ0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456
    state: probe
  delegate_to: localhost
  register: probe
  failed_when: probe.accepted
"""

RETURN = r"""
accepted:
  description: Whether the password was accepted.
  type: bool
  returned: always
host_key_fingerprint:
  description: The fingerprint the worker presented.
  type: str
  returned: always
"""

import base64
import hashlib
import re
import socket
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import paramiko
except ImportError:
    HAS_PARAMIKO = False
    PARAMIKO_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_PARAMIKO = True
    PARAMIKO_IMPORT_ERROR = None

_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
_KEY_LINE = re.compile(r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [ -~]{0,200})?")
# Constant remote commands (run by the user's login shell). The key arrives on stdin, never in the command.
_HAS_KEY = 'k=$(cat); f="$HOME/.ssh/authorized_keys"; [ -f "$f" ] && grep -qxF -- "$k" "$f"'
_ADD_KEY = ('umask 077; k=$(cat); d="$HOME/.ssh"; f="$d/authorized_keys"; mkdir -p "$d" && touch "$f" && '
            '{ grep -qxF -- "$k" "$f" || printf "%s\\n" "$k" >> "$f"; }')


def fingerprint(key) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def run(transport, command: str, stdin: str, timeout: int) -> int:
    chan = transport.open_session(timeout=timeout)
    try:
        chan.settimeout(timeout)
        chan.exec_command(command)
        chan.sendall(stdin.encode())
        chan.shutdown_write()
        return chan.recv_exit_status()
    finally:
        chan.close()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", default=22),
            user=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            host_key_fingerprint=dict(type="str", required=True, no_log=False),  # public, not a secret
            key=dict(type="str", no_log=False),
            state=dict(type="str", choices=["present", "probe"], default="present"),
            timeout=dict(type="int", default=30),
        ),
        required_if=[("state", "present", ["key"])],
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_PARAMIKO:
        module.fail_json(msg=missing_required_lib("paramiko", reason="to log in to the worker with its password"),
                         exception=PARAMIKO_IMPORT_ERROR)
    if not _FINGERPRINT.fullmatch(p["host_key_fingerprint"]):
        module.fail_json(msg=f"host_key_fingerprint: {p['host_key_fingerprint']!r} is not a SHA256:... fingerprint")
    key = (p["key"] or "").strip()
    if p["state"] == "present" and not _KEY_LINE.fullmatch(key):
        module.fail_json(msg="key: not one public key line (ssh-ed25519, ssh-rsa or ecdsa, base64, comment)")
    where = f"{p['user']}@{p['host']}:{p['port']}"
    try:
        sock = socket.create_connection((p["host"], p["port"]), timeout=p["timeout"])
    except OSError as exc:
        module.fail_json(msg=f"{where}: cannot connect: {exc}")
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = p["timeout"]
        # Only the key type whose fingerprint is pinned: the worker cannot offer another one.
        transport.get_security_options().key_types = ("ssh-ed25519",)
        try:
            transport.start_client(timeout=p["timeout"])
        except (paramiko.SSHException, OSError, EOFError) as exc:
            module.fail_json(msg=f"{where}: SSH handshake failed: {exc}")
        presented = fingerprint(transport.get_remote_server_key())
        if presented != p["host_key_fingerprint"]:
            module.fail_json(msg=f"{where}: host key {presented} is not the expected {p['host_key_fingerprint']}; "
                                 f"the password was not sent", host_key_fingerprint=presented)
        try:
            transport.auth_password(p["user"], p["password"])
            accepted = transport.is_authenticated()
        except paramiko.AuthenticationException:
            accepted = False
        except (paramiko.SSHException, OSError, EOFError) as exc:
            module.fail_json(msg=f"{where}: password authentication did not complete: {exc}")
        result = {"accepted": accepted, "host_key_fingerprint": presented, "changed": False}
        if p["state"] == "probe":
            module.exit_json(**result)
        if not accepted:
            module.fail_json(msg=f"{where}: the password was refused", **result)
        try:
            present = run(transport, _HAS_KEY, key + "\n", p["timeout"]) == 0
            if not present and not module.check_mode:
                rc = run(transport, _ADD_KEY, key + "\n", p["timeout"])
                if rc != 0:
                    module.fail_json(msg=f"{where}: adding the key to ~/.ssh/authorized_keys failed (exit {rc})",
                                     **result)
                if run(transport, _HAS_KEY, key + "\n", p["timeout"]) != 0:
                    module.fail_json(msg=f"{where}: the key is still not in ~/.ssh/authorized_keys", **result)
        except (paramiko.SSHException, OSError, EOFError, socket.timeout) as exc:
            module.fail_json(msg=f"{where}: remote command failed: {exc}", **result)
        result["changed"] = not present
        module.exit_json(**result)
    finally:
        transport.close()


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's files on a host, compared in one call and sent only where they differ (the action plugin's host side)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_files
short_description: Install a set of files from the controller, comparing them all in one call
description:
  - Installs several files from the role's C(files/) directory (or any path the controller finds) on the host.
  - The controller computes each file's SHA-1. One call on the host compares every destination with it and fixes
    owner, group and mode where only those differ. Only files whose content differs are sent, and they are moved
    into place atomically in a second call.
  - On a host that already has every file, this costs one module call, where a C(copy) loop costs two per file.
  - The second call checks every transferred copy against its checksum and stages every file beside its
    destination before it replaces any, so a bad copy or a full disk replaces nothing. When a replacement fails
    after others were made, the failure reports C(changed) with the files already replaced in C(updated). Ansible
    notifies no handler from a failed task, and the next run replaces nothing more; restart what uses the files
    by hand, or run with C(--force-handlers).
  - With C(--diff) the content change of each differing file is shown, as C(copy) shows it.
  - The host side, run by the action plugin of the same name, takes O(files) with each item's C(checksum) (and,
    in the second call, C(src)) filled in.
options:
  files:
    description: The files to install.
    type: list
    elements: dict
    required: true
    suboptions:
      src:
        description:
          - On the controller, the file to install, found like C(copy)'s C(src) (the role's C(files/) first).
          - On the host (set by the action plugin), the transferred copy to move into place.
        type: path
      dest:
        description: Where the file goes on the host (absolute; its directory must exist).
        type: path
        required: true
      mode:
        description: The file's mode, an octal string such as C("0755"); default O(mode).
        type: str
      checksum:
        description: SHA-1 of the wanted content (set by the action plugin).
        type: str
  owner:
    description: Owner of every file.
    type: str
    default: root
  group:
    description: Group of every file.
    type: str
    default: root
  mode:
    description: Mode of the files that set none.
    type: str
    default: "0644"
extends_documentation_fragment:
  - lvsfleet.lvs.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author: lvsfleet maintainers (@lvsfleet)
"""

EXAMPLES = r"""
- name: Install the health checkers and the config validator
  lvsfleet.lvs.lvs_files:
    mode: "0755"
    files:
      - {src: check-mysql, dest: /usr/local/libexec/lvsfleet/check-mysql}
      - {src: keepalived_conf.py, dest: /usr/local/libexec/lvsfleet/keepalived_conf.py, mode: "0644"}
  notify: Restart the keepalived watchdog
"""

RETURN = r"""
updated:
  description: Destinations whose content, owner, group or mode changed (or in check mode would change).
  type: list
  elements: str
  returned: always
needs_content:
  description: Destinations whose content differs from the wanted one (host side; the action plugin sends these).
  type: list
  elements: str
  returned: always
"""

import hashlib
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def sha1(path):
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def install(module, sent, attrs):
    """Every copy checked, then every file staged beside its destination, then each renamed into place: nothing
    is replaced unless all can be. A rename that still fails reports what was replaced (changed)."""
    for item in sent:
        if sha1(item["src"]) != item["checksum"]:
            module.fail_json(msg=f"files: {item['dest']}: the transferred copy {item['src']} does not match its "
                                 f"checksum; nothing was replaced", changed=False, updated=[])
    if module.check_mode:
        return
    staged = []
    try:
        for item in sent:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(item["dest"]), prefix=".lvs_files.")
            staged.append(tmp)
            module.add_cleanup_file(tmp)  # removed if a fail_json (owner, group, mode) ends the module here
            with os.fdopen(fd, "wb") as out, open(item["src"], "rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            module.set_fs_attributes_if_different(attrs(item, tmp), True)
    except OSError as exc:
        for tmp in staged:
            os.unlink(tmp)
        module.fail_json(msg=f"files: cannot stage {item['dest']}: {exc}; nothing was replaced", changed=False,
                         updated=[])
    replaced = []
    for n, (item, tmp) in enumerate(zip(sent, staged)):
        try:
            os.replace(tmp, item["dest"])
        except OSError as exc:
            for rest in staged[n:]:
                os.unlink(rest)
            module.fail_json(msg=f"files: cannot replace {item['dest']}: {exc}; replaced before it: "
                                 f"{', '.join(replaced) or 'none'}", changed=bool(replaced), updated=replaced)
        replaced.append(item["dest"])
        try:
            os.unlink(item["src"])  # the transferred copy (the action plugin removes its directory anyway)
        except OSError:
            pass


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=dict(
                src=dict(type="path"), dest=dict(type="path", required=True), mode=dict(type="str"),
                checksum=dict(type="str"))),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="str", default="0644"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    updated, needs_content = [], []

    def attrs(item, path):
        return dict(path=path, owner=p["owner"], group=p["group"], mode=item.get("mode") or p["mode"],
                    secontext=None, attributes=None)

    for item in p["files"]:
        if not os.path.isabs(item["dest"]):
            module.fail_json(msg=f"files: dest {item['dest']!r} must be an absolute path")
        if not item.get("checksum"):
            module.fail_json(msg=f"files: {item['dest']}: no checksum (call the module through its action plugin)")
    sent = [item for item in p["files"] if item.get("src")]
    if sent:  # second call: the wanted contents are on the host
        install(module, sent, attrs)
    for item in p["files"]:
        dest = item["dest"]
        if item.get("src"):
            updated.append(dest)
        elif not os.path.isfile(dest) or sha1(dest) != item["checksum"]:
            needs_content.append(dest)
            updated.append(dest)
        elif module.set_fs_attributes_if_different(attrs(item, dest), False):  # check mode: reports, no change
            updated.append(dest)
    module.exit_json(changed=bool(updated), updated=updated, needs_content=needs_content)


if __name__ == "__main__":
    main()

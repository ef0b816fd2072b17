# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of lvsfleet.lvs.lvs_files: checksums here, one comparing call there, then only what differs."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.hashing import checksum

MODULE = "lvsfleet.lvs.lvs_files"


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise AnsibleActionFail("files: a non-empty list of {src, dest[, mode]} is required")
        wanted, local = [], {}
        for i, item in enumerate(files):
            if not isinstance(item, dict) or not item.get("src") or not item.get("dest"):
                raise AnsibleActionFail(f"files[{i}]: {item!r} needs src and dest")
            path = self._find_needle("files", item["src"])
            local[item["dest"]] = path
            wanted.append({"dest": item["dest"], "mode": item.get("mode"), "checksum": checksum(path)})
        common = {k: args[k] for k in ("owner", "group", "mode") if k in args}

        try:
            first = self._execute_module(MODULE, module_args=dict(common, files=wanted), task_vars=task_vars)
            if first.get("failed"):
                return dict(result, **first)
            needs = first.get("needs_content", [])
            diffs = [self._get_diff_data(dest, local[dest], task_vars) for dest in needs] if self._task.diff else []
            if needs and not self._task.check_mode:
                shell = self._connection._shell
                if shell.tmpdir is None:
                    self._make_tmp_path()
                second_args = []
                for n, dest in enumerate(needs):
                    remote = self._transfer_file(local[dest], shell.join_path(shell.tmpdir, f"lvs_files.{n}"))
                    second_args.append(dict(next(w for w in wanted if w["dest"] == dest), src=remote))
                self._fixup_perms2([shell.tmpdir] + [a["src"] for a in second_args])
                second = self._execute_module(MODULE, module_args=dict(common, files=second_args),
                                              task_vars=task_vars)
                if second.get("failed"):  # what the first call fixed (attributes) counts as changed too
                    replaced = second.get("updated", [])
                    attrs_only = [d for d in first.get("updated", []) if d not in needs]
                    return dict(result, **dict(second, changed=bool(replaced or attrs_only),
                                               updated=attrs_only + replaced))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

        result.update(changed=bool(first.get("updated")), updated=first.get("updated", []), needs_content=needs)
        if diffs:
            result["diff"] = diffs
        return result

# -*- coding: utf-8 -*-
"""keepalived.conf as keepalived's parser reads it: lines of whitespace-separated tokens, '{' and '}' as
tokens of their own, "double-quoted" strings as one token, and '#' or '!' outside quotes starting a comment
to the end of the line. A line whose first token is `include`, starts with '@' (a per-host line), '$' (a
variable definition or expansion) or '~' (a sequence) is reported as such: rendered values must never make
one. Standard library only.

    parse(text) -> [Node]   Node: keyword, args (tokens), children (for a block), line
        strict: what lvsfleet renders is checked with it, so the special lines are errors.
    load(path, host, read, expand) -> [Node]
        a hand-written configuration as keepalived reads it: `include` lines (glob patterns, relative to the
        including file's directory) are read in place, `@host` / `@^host` lines are kept only for (or except
        for) `host`, and a '{' alone on the line after its keyword opens that keyword's block. Variables
        ('$') and sequences ('~') are refused with the file and line: adopting them would need keepalived's
        macro language.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class ConfError(ValueError):
    """The text does not have the shape keepalived reads (unbalanced braces, unterminated quote)."""


@dataclass
class Node:
    keyword: str
    args: list[str] = field(default_factory=list)
    children: list["Node"] | None = None
    line: int = 0
    file: str = ""

    def plain(self):
        """Comparable form without line numbers."""
        return (self.keyword, tuple(self.args),
                None if self.children is None else tuple(c.plain() for c in self.children))


SPECIAL_FIRST = ("@", "$", "~")


def tokens(line: str, lineno: int = 0) -> list[str]:
    out, cur, quoted, i = [], None, False, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"':
                quoted = False
                out.append(cur)
                cur = None
            else:
                cur += ch
        elif ch == '"':
            if cur is not None:
                out.append(cur)
            cur, quoted = "", True
        elif ch in "#!":
            break
        elif ch in " \t\r\v\f":
            if cur is not None:
                out.append(cur)
                cur = None
        elif ch in "{}":
            if cur is not None:
                out.append(cur)
                cur = None
            out.append(ch)
        else:
            cur = (cur or "") + ch
        i += 1
    if quoted:
        raise ConfError(f"line {lineno}: unterminated quoted string")
    if cur is not None:
        out.append(cur)
    return out


def parse(text: str) -> list[Node]:
    lines = []
    for lineno, line in enumerate(text.split("\n"), 1):
        toks = tokens(line, lineno)
        if toks and (toks[0] == "include" or toks[0][:1] in SPECIAL_FIRST):
            raise ConfError(f"line {lineno}: {toks[0]!r} starts a line: keepalived reads it as an include, a "
                            f"per-host line, a variable or a sequence")
        lines.append(("", lineno, toks))
    return _build(lines, brace_next_line=False)


MAX_INCLUDE_DEPTH = 8
MAX_FILES = 256


def load(path: str, host: str = "", read=None, expand=None) -> list[Node]:
    """Parse the configuration at `path` with its includes.

    `read(path) -> str` and `expand(pattern) -> [paths, sorted]` default to the local file system (glob).
    """
    import glob as _glob
    import os

    read = read or (lambda p: open(p, encoding="utf-8", errors="replace").read())
    expand = expand or (lambda pattern: sorted(_glob.glob(pattern)))
    lines: list[tuple[str, int, list[str]]] = []
    open_files: list[str] = []  # the include chain being read
    count = [0]

    def walk(name: str, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfError(f"{name}: includes nest deeper than {MAX_INCLUDE_DEPTH} files")
        if name in open_files:
            raise ConfError(f"{name}: includes itself (through {' -> '.join(open_files)})")
        open_files.append(name)
        count[0] += 1
        if count[0] > MAX_FILES:
            raise ConfError(f"{path}: more than {MAX_FILES} files through includes")
        for lineno, line in enumerate(read(name).split("\n"), 1):
            toks = tokens(line, lineno)
            if toks and toks[0].startswith("@"):
                tag, toks = toks[0][1:], toks[1:]
                keep = tag[1:] != host if tag.startswith("^") else tag == host
                if not keep:
                    continue
            if not toks:
                continue
            if toks[0] == "include":
                if len(toks) != 2:
                    raise ConfError(f"{name}:{lineno}: include takes one file name or pattern")
                pattern = os.path.normpath(toks[1] if toks[1].startswith("/")
                                           else os.path.join(os.path.dirname(name), toks[1]))
                found = expand(pattern)
                if not found and not any(ch in pattern for ch in "*?["):
                    raise ConfError(f"{name}:{lineno}: include {toks[1]}: no such file")
                for child in found:
                    walk(child, depth + 1)
                continue
            if toks[0][:1] in ("$", "~"):
                raise ConfError(f"{name}:{lineno}: {toks[0]!r}: keepalived variables and sequences are not "
                                f"adopted; expand them by hand first")
            lines.append((name, lineno, toks))
        open_files.pop()

    walk(path, 0)
    return _build(lines, brace_next_line=True)


def _build(lines, brace_next_line: bool) -> list[Node]:
    root: list[Node] = []
    stack: list[list[Node]] = [root]
    last: Node | None = None  # the last keyword of the previous line, for a '{' on the next line
    for name, lineno, toks in lines:
        where = f"{name}:{lineno}" if name else f"line {lineno}"
        pending: Node | None = None  # the last keyword of this line: a '{' after it opens its block
        for i, tok in enumerate(toks):
            if tok == "{":
                if pending is None and i == 0 and brace_next_line and last is not None and last.children is None:
                    pending = last
                if pending is None:
                    raise ConfError(f"{where}: '{{' opens no block")
                pending.children = []
                stack.append(pending.children)
                pending = None
            elif tok == "}":
                if len(stack) == 1:
                    raise ConfError(f"{where}: '}}' closes no block")
                stack.pop()
                pending = None
            elif pending is not None:
                pending.args.append(tok)
            else:
                pending = Node(tok, line=lineno, file=name)
                stack[-1].append(pending)
        last = pending
    if len(stack) != 1:
        raise ConfError("unbalanced braces: a block is not closed")
    return root


def find(nodes: list[Node], *path: str) -> list[Node]:
    """Nodes reached by keywords along `path` (every match at each level)."""
    level = list(nodes)
    for key in path:
        level = [n for n in level if n.keyword == key]
        if key != path[-1]:
            level = [c for n in level for c in (n.children or [])]
    return level

# -*- coding: utf-8 -*-
"""keepalived.conf as keepalived's parser reads it: lines of whitespace-separated tokens, '{' and '}' as
tokens of their own, "double-quoted" strings as one token, and '#' or '!' outside quotes starting a comment
to the end of the line. A line whose first token is `include`, starts with '@' (a per-host line), '$' (a
variable definition or expansion) or '~' (a sequence) is reported as such: rendered values must never make
one. Standard library only.

    parse(text) -> [Node]   Node: keyword, args (tokens), children (for a block), line
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
    root: list[Node] = []
    stack: list[list[Node]] = [root]
    pending: Node | None = None  # the last keyword of this line: a '{' after it opens its block
    for lineno, line in enumerate(text.split("\n"), 1):
        toks = tokens(line, lineno)
        if toks and (toks[0] == "include" or toks[0][0] in SPECIAL_FIRST):
            raise ConfError(f"line {lineno}: {toks[0]!r} starts a line: keepalived reads it as an include, a "
                            f"per-host line, a variable or a sequence")
        for tok in toks:
            if tok == "{":
                if pending is None:
                    raise ConfError(f"line {lineno}: '{{' opens no block")
                pending.children = []
                stack.append(pending.children)
                pending = None
            elif tok == "}":
                if len(stack) == 1:
                    raise ConfError(f"line {lineno}: '}}' closes no block")
                stack.pop()
                pending = None
            elif pending is not None and pending.line == lineno:
                pending.args.append(tok)
            else:
                pending = Node(tok, line=lineno)
                stack[-1].append(pending)
        pending = None  # lvsfleet renders a block's '{' on its keyword's line
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

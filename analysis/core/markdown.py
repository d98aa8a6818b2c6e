"""Markdown for the notebooks' computed text, with everything that comes from data made inert.

Sentences are plain text: they carry numbers, area names, source titles and claims read from
files. The pages render Markdown, and Markdown passes raw HTML through, so a ``<script>`` in a
claim or a source title would run in the reader's browser. Every piece of text therefore goes
through :func:`literal` on its way into Markdown; the only markup is what these helpers add.
"""

from __future__ import annotations

import re

# Inline Markdown punctuation that can open or close markup (emphasis, code, links, tables,
# strike-through, maths), and what makes a paragraph's first characters a heading, list or quote.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")
_MD_LINE_START = re.compile(r"^(#{1,6}|[-+]|\d+[.)])(?=\s|$)")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def literal(text: object) -> str:
    """``text`` as Markdown that renders exactly as the characters given, never as markup.

    Markdown punctuation is backslash-escaped and ``& < > "`` become HTML entities, so neither
    emphasis, links, images nor raw HTML can come out of it. Line breaks become spaces.
    """
    value = " ".join(str(text).split())
    value = _MD_SPECIAL.sub(r"\\\1", value)
    value = _MD_LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1)[0] in "#-+" else m.group(1)[:-1] + "\\" + m.group(1)[-1], value)
    return "".join(_HTML.get(ch, ch) for ch in value)


def bold(text: object) -> str:
    """``**text**`` with ``text`` made literal."""
    return f"**{literal(text)}**"


def italic(text: object) -> str:
    """``*text*`` with ``text`` made literal."""
    return f"*{literal(text)}*"


def paragraph(*parts: str) -> str:
    """Join already-built Markdown pieces (from the helpers above) with single spaces."""
    return " ".join(p for p in parts if p)

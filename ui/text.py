"""Plain text for Markdown: a module of its own, imported by ui.auth and ui.components alike."""
from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape(text: str) -> str:
    """Plain text for st.markdown: names from uploads can hold Markdown (links, images)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))

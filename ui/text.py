"""Text from the data made safe to show (markdown escaped): used by every widget that echoes a file."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md_escape(text: object) -> str:
    """Escape text from the data so markdown/HTML in it is shown literally."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def plain(text: object) -> str:
    """Text from files (column names, cell values) made safe for st.error/st.warning: markdown
    escaped, line breaks kept."""
    return "  \n".join(md_escape(line) for line in str(text).split("\n"))

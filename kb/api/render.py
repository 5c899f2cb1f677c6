"""Markdown to HTML for section text, with any raw HTML in the source shown as text."""

from __future__ import annotations

import markdown


def render_markdown(text: str) -> str:
    """Render Markdown; '<' and '&' are escaped first so corpus text can never inject markup.

    '>' is left alone: on its own it cannot open a tag, and Markdown needs it for quotes.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return markdown.markdown(escaped, extensions=["sane_lists"], output_format="html")

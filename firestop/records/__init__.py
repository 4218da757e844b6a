"""Post-incident records: the JSON document and its Markdown rendering."""

from firestop.records.render import render_markdown

__all__ = ["render_markdown"]

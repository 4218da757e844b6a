"""Command-line interface: ``python -m firestop <noun> <verb>`` (typer + rich)."""

"""KQL errors, mapped by the Log Analytics route to 400 ``BadArgumentError``."""

from __future__ import annotations


class KqlError(Exception):
    """Base: ``kind`` is the innererror code the query API reports (``SyntaxError`` / ``SemanticError``)."""

    kind = "SemanticError"

    def __init__(self, message: str, pos: int | None = None, token: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.token = token


class KqlSyntaxError(KqlError):
    """The text does not parse (or uses syntax outside the sandbox subset)."""

    kind = "SyntaxError"


class KqlSemanticError(KqlError):
    """It parses but names an unknown table/column/function or mixes types."""

    kind = "SemanticError"

"""The one shape of error that a resident may see: a machine-readable code and a kind Chinese message."""

from __future__ import annotations


class ExplainedError(ValueError):
    """``code`` says why (for tests and logs), ``message`` says it kindly in Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

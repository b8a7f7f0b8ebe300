"""Errors an evaluator can act on: each names the file and what is wrong with it."""


class ExportError(Exception):
    """The export folder cannot be used at all (missing table, unreadable file, ...)."""

    def __init__(self, message: str, file: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)

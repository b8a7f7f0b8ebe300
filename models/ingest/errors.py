"""Errors an evaluator can act on: each names the file and what is wrong with it."""


def refuse_unprintable(name: str) -> None:
    """A file name with a line break, tab or other control character is refused: printed in a
    message, it could forge a line of the CLI's output ("x.csv\nRun succeeded")."""
    if not name.isprintable():
        escaped = name.encode("unicode_escape").decode("ascii")
        raise ExportError(
            "the file name holds a line break, tab or other control character (shown escaped "
            "here); rename the file",
            escaped,
        )


class ExportError(Exception):
    """The export folder cannot be used at all (missing table, unreadable file, ...)."""

    def __init__(self, message: str, file: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}" if file else message)

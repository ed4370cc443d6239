"""The importer's one error: a refusal that names the file and, where it applies, the line."""

from config.errors import InvalidInput


class ImportFailed(InvalidInput):
    """A document the importer refuses. Nothing is written when this is raised.

    The message reads ``"security.md, line 12: …"`` (or ``"security.md: …"`` when no single
    line is to blame); ``details`` carries ``{"file": …, "line": … or None}`` for the API.
    """

    code = "import_failed"

    def __init__(self, file: str, reason: str, *, line: int | None = None, status: int = 400):
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}", details={"file": file, "line": line})
        self.file = file
        self.line = line
        self.reason = reason
        self.status = status

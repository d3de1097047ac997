"""Manifest problems, each pinned to a file, a line and a field."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ManifestIssue:
    source: str
    line: int | None
    field: str
    message: str

    def __str__(self):
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ManifestError(Exception):
    """One or more problems with a manifest; nothing was written."""

    def __init__(self, issues):
        self.issues = sorted(issues, key=lambda issue: (issue.line or 0, issue.field))
        super().__init__("\n".join(str(issue) for issue in self.issues))

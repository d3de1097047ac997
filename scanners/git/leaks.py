"""One leak per secret: the places a secret (one keyed fingerprint) was found, across files, commits
and repositories. Plain values built from the git probe's records; no secret value, only the
redacted preview and the fingerprint."""

from __future__ import annotations

from dataclasses import dataclass

CONFIDENCE_ORDER = ("high", "medium", "low")  # most confident first
MAX_EVIDENCE_LOCATIONS = 200  # a finding's evidence lists at most this many (location_count has all)


def confidence_rank(confidence: str) -> int:
    """0 for high ... 2 for low; an unknown value counts as high (never hide a leak by a typo)."""
    return CONFIDENCE_ORDER.index(confidence) if confidence in CONFIDENCE_ORDER else 0


@dataclass(frozen=True)
class LeakLocation:
    """One place a secret was introduced: a path in a repository, at the commit that added it."""

    repository_id: int
    repository: str  # display name only; identity is repository_id
    rule_id: str
    file: str
    line: int
    commit: str
    commit_date: str
    first_seen: str  # when a scan first recorded it (ISO 8601)
    still_at_head: bool
    confidence: str
    reasons: tuple[str, ...]
    redacted: str

    def evidence(self) -> dict:
        return {
            "repository_id": self.repository_id, "repository": self.repository, "file": self.file,
            "line": self.line, "commit": self.commit, "commit_date": self.commit_date,
            "first_seen": self.first_seen, "still_at_head": self.still_at_head, "rule_id": self.rule_id,
            "confidence": self.confidence, "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class SecretLeak:
    """Every known location of one secret, still-at-a-tip first, then oldest first."""

    secret_fingerprint: str
    locations: tuple[LeakLocation, ...]

    @property
    def still_at_head(self) -> bool:
        return any(loc.still_at_head for loc in self.locations)

    @property
    def confidence(self) -> str:
        """The best confidence of any location."""
        return CONFIDENCE_ORDER[min(confidence_rank(loc.confidence) for loc in self.locations)]

    @property
    def repository_ids(self) -> list[int]:
        return sorted({loc.repository_id for loc in self.locations})

    def evidence(self) -> dict:
        best = [loc for loc in self.locations if loc.confidence == self.confidence]
        return {
            "secret_fingerprint": self.secret_fingerprint,
            "redacted": self.locations[0].redacted,
            "rule_ids": sorted({loc.rule_id for loc in self.locations}),
            "confidence": self.confidence,
            "reasons": sorted({r for loc in best for r in loc.reasons}),
            "still_at_head": self.still_at_head,
            "first_commit_date": min(loc.commit_date for loc in self.locations),
            "repositories": sorted({loc.repository for loc in self.locations}),
            "repository_ids": self.repository_ids,
            "location_count": len(self.locations),
            "locations": [loc.evidence() for loc in self.locations[:MAX_EVIDENCE_LOCATIONS]],
        }


def _order(loc: LeakLocation) -> tuple:
    return (not loc.still_at_head, loc.commit_date, loc.repository, loc.file, loc.line, loc.rule_id)


def secret_leaks_group(locations) -> list[SecretLeak]:
    """Group locations by secret fingerprint; the same (repository, rule, path) seen through two
    connectors counts once. Returns leaks in fingerprint order."""
    by_secret: dict[str, dict[tuple, LeakLocation]] = {}
    for fp, loc in locations:
        seen = by_secret.setdefault(fp, {})
        key = (loc.repository_id, loc.rule_id, loc.file)
        if key not in seen or _order(loc) < _order(seen[key]):
            seen[key] = loc
    return [SecretLeak(secret_fingerprint=fp, locations=tuple(sorted(locs.values(), key=_order)))
            for fp, locs in sorted(by_secret.items())]

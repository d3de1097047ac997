"""Keyword prefilter: one Aho-Corasick pass over the lower-cased text decides which rules'
regexes run, so cost does not grow with the number of rules (ahocorasick-rs, ~0.5 GB/s)."""

from __future__ import annotations

import ahocorasick_rs


class Prefilter:
    def __init__(self, rules):
        keywords = sorted({k for r in rules for k in r.keywords})
        self._always = [i for i, r in enumerate(rules) if not r.keywords]
        by_keyword = {k: [] for k in keywords}
        for i, rule in enumerate(rules):
            for k in rule.keywords:
                by_keyword[k].append(i)
        self._rules_of = [by_keyword[k] for k in keywords]
        self._ac = ahocorasick_rs.AhoCorasick(keywords) if keywords else None

    def candidates(self, lowered: str) -> list[int]:
        """Indexes of the rules whose keywords occur in `lowered` (plus keyword-less rules)."""
        hit = set(self._always)
        if self._ac is not None:
            for k in {m[0] for m in self._ac.find_matches_as_indexes(lowered, overlapping=True)}:
                hit.update(self._rules_of[k])
        return sorted(hit)

"""Keyword prefilter engines on one text: hyperscan vs ahocorasick-rs vs a Python `re` alternation,
with the default rules' keywords. Feed it patch text, e.g.

    git -C /tmp/bench20k log -p --all > /tmp/patch.txt
    python benchmarks/prefilter_bench.py /tmp/patch.txt
"""

import re
import sys
import time
import tomllib
from pathlib import Path

import ahocorasick_rs
import hyperscan

RULES = Path(__file__).resolve().parents[1] / "scanners" / "git" / "rules" / "default.toml"


def best(fn, n=3):
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def hs_scan(db, data: bytes) -> set:
    seen = set()
    db.scan(data, match_event_handler=lambda i, _f, _t, _fl, _c: seen.add(i))
    return seen


def main(path: str) -> None:
    with open(RULES, "rb") as fh:
        rules = tomllib.load(fh)["rules"]
    keywords = sorted({k for r in rules for k in r.get("keywords", [])})
    with open(path, "rb") as fh:
        text = fh.read()
    low = text.decode("utf-8", "replace").lower()
    raw = low.encode()
    mb = len(raw) / 1e6
    ac = ahocorasick_rs.AhoCorasick(keywords)
    db = hyperscan.Database()
    db.compile(expressions=[re.escape(k).encode() for k in keywords], ids=list(range(len(keywords))),
               elements=len(keywords), flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(keywords))
    alternation = re.compile("|".join(re.escape(k) for k in keywords))
    t_ac, r_ac = best(lambda: {m[0] for m in ac.find_matches_as_indexes(low, overlapping=True)})
    t_hs, r_hs = best(lambda: hs_scan(db, raw))
    t_re, _ = best(lambda: set(alternation.findall(low)), n=1)
    print(f"{mb:.1f} MB, {len(keywords)} keywords")
    print(f"ahocorasick-rs (overlapping): {t_ac:.3f} s = {mb / t_ac:.0f} MB/s, {len(r_ac)} keywords present")
    print(f"hyperscan (single match):     {t_hs:.3f} s = {mb / t_hs:.0f} MB/s, {len(r_hs)} keywords present")
    print(f"python re alternation:        {t_re:.3f} s = {mb / t_re:.0f} MB/s")
    chunks = [low[i:i + 2000] for i in range(0, len(low), 2000)]
    raw_chunks = [c.encode() for c in chunks]
    t1, _ = best(lambda: [{m[0] for m in ac.find_matches_as_indexes(c, overlapping=True)} for c in chunks])
    t2, _ = best(lambda: [hs_scan(db, c) for c in raw_chunks])
    print(f"{len(chunks)} texts of 2 KB: ahocorasick-rs {t1:.3f} s, hyperscan {t2:.3f} s")


if __name__ == "__main__":
    main(sys.argv[1])

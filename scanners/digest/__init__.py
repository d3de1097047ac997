"""The weekly findings email: per-team digests and the fleet security summary.

selectors (pure reads) -> render (templates) -> services (exactly-once send) -> tasks / command / view.
"""

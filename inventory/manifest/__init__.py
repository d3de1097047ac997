"""The fleet manifest (fleet.yaml): load and validate it, plan and apply an import, export.

    manifest = manifest_load(path="fleet.yaml")        # ManifestError lists every problem
    plan = fleet_plan(manifest=manifest)               # read-only diff against the inventory
    fleet_apply(plan=plan, prune=False)                # one transaction + AuditLogEntry
    result = fleet_import(manifest=manifest, prune=False, dry_run=False)  # plan + apply, atomic
    text = fleet_export()
"""

from .apply import ImportResult, fleet_apply, fleet_import
from .errors import ManifestError, ManifestIssue
from .export import fleet_export
from .plan import Plan, fleet_plan
from .schema import Manifest, manifest_load, manifest_parse

__all__ = [
    "ImportResult", "Manifest", "ManifestError", "ManifestIssue", "Plan",
    "fleet_apply", "fleet_export", "fleet_import", "fleet_plan", "manifest_load", "manifest_parse",
]

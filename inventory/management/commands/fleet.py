"""`manage.py fleet import PATH [--dry-run] [--prune]` and `manage.py fleet export [PATH]`."""

from django.core.management.base import BaseCommand, CommandError

from inventory.manifest import ManifestError, fleet_export, fleet_import, manifest_load


class Command(BaseCommand):
    help = "Import or export the fleet manifest (fleet.yaml)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import,export}")
        load = actions.add_parser("import", help="Make the inventory match a manifest.")
        load.add_argument("path", help="Manifest file (YAML).")
        load.add_argument("--dry-run", action="store_true", help="Print the plan; write nothing.")
        load.add_argument("--prune", action="store_true",
                          help="Remove teams, bots, repositories, connectors, credentials and identities "
                               "that are not in the manifest (otherwise they are only reported).")
        dump = actions.add_parser("export", help="Write the inventory as a manifest.")
        dump.add_argument("path", nargs="?", help="Output file (default: stdout).")

    def handle(self, *args, action, path=None, dry_run=False, prune=False, **options):
        if action == "export":
            return self._export(path)
        try:
            result = fleet_import(manifest=manifest_load(path=path), prune=prune, dry_run=dry_run)
        except ManifestError as exc:
            raise CommandError(f"{path}: not imported, nothing written.\n{exc}") from exc
        for line in result.plan.lines(prune=prune):
            self.stdout.write(line)
        self.stdout.write(_summary(result, dry_run=dry_run, prune=prune))

    def _export(self, path):
        text = fleet_export()
        if path is None:
            self.stdout.write(text, ending="")
            return
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError(f"{path}: cannot write: {exc.strerror or exc}") from None
        self.stderr.write(f"Wrote {path}.")


def _summary(result, *, dry_run, prune):
    counts = result.counts
    total = {bucket: sum(counts[bucket].values()) for bucket in counts}
    kept = f" {total['kept']} not in the manifest kept (use --prune to remove)." if total["kept"] else ""
    if not result.plan.writes(prune=prune):
        return "No changes." + kept
    done = f"{total['created']} to create, {total['updated']} to update, {total['removed']} to remove"
    if dry_run:
        return f"Dry run: {done}; nothing written." + kept
    done = done.replace("to create", "created").replace("to update", "updated").replace("to remove", "removed")
    return f"Imported {result.plan.source}: {done}." + kept

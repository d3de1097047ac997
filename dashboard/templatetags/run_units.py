"""`{{ run.probe_runs.all|unit_groups }}`: a run's units grouped by connector, for the Runs page."""

from django import template

from scanners.selectors.runs import probe_runs_grouped

register = template.Library()


@register.filter
def unit_groups(probe_runs):
    return probe_runs_grouped(probe_runs)

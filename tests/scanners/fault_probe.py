"""A probe kind for the fault tests, registered in the test process (fixture) and in the worker
subprocesses (fault_app.py): collect() sleeps `options.sleep` seconds — so a test can kill its worker
or restart Redis mid-probe — and reports `options.subjects`. With `options.units` ([{name, sleep,
subjects}]) it plans one unit per entry, and each unit sleeps and reports its own."""

import time

from scanners import registry
from scanners.registry import Collected, Hit, ProbeKind, Unit, check


@check(id="faultprobe.fault.thing", severity="high", category="hygiene", title="Fault-test thing",
       remediation="Nothing to do: a test fixture.", owasp="NHI7")
def fault_thing(observations, ctx):
    for subject in observations:
        yield Hit(subject=subject)


def plan(connector, ctx):
    return [Unit(name=u["name"], params=u) for u in (connector.options or {}).get("units", [])]


def collect(connector, ctx):
    options = connector.options or {}
    if ctx.unit is not None and ctx.unit.name:
        options = ctx.unit.params
    time.sleep(float(options.get("sleep", 0)))
    return Collected(observations=list(options.get("subjects", [])), api_calls=1)


def kind_register() -> ProbeKind:
    return registry.register(ProbeKind(kind="faultprobe", collect=collect, checks=[fault_thing], plan=plan))

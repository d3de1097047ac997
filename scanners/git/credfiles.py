"""Credential-file formats that need parsing rather than a regex: `.pgpass` lines
(host:port:database:user:password) and the `data` / `stringData` of Kubernetes Secrets (base64).
Yields (rule id, value, start, end) with offsets into the text."""

from __future__ import annotations

import re

from .values import base64_text

_PGPASS = re.compile(r"(?:^|/)(?:\.pgpass|pgpass(?:\.conf)?)$")
_PGPASS_LINE = re.compile(r"^(?:(?:[^:\\\n]|\\.)*:){4}((?:[^:\\\n]|\\.)+)\s*$", re.M)
_K8S_SECRET = re.compile(r"^kind:\s*[\"']?Secret[\"']?\s*$", re.M)
_DATA_BLOCK = re.compile(r"^(data|stringData):\s*$", re.M)
# re.M: `^` matches at the line a match starts from (`pos`), not only at offset 0
_DATA_ITEM = re.compile(r"^([ \t]+)[\"']?([\w.-]+)[\"']?:[ \t]*[\"']?([^\s\"'#]+)[\"']?[ \t]*$", re.M)


def pgpass_find(text: str, *, path: str):
    if not _PGPASS.search(path):
        return
    for m in _PGPASS_LINE.finditer(text):
        if not m.group(0).lstrip().startswith("#"):
            yield "pgpass-password", m.group(1), m.start(1), m.end(1)


def k8s_secret_find(text: str):
    """Values under `data:` (base64) and `stringData:` of each `kind: Secret` document."""
    if "Secret" not in text or not _K8S_SECRET.search(text):
        return
    for block in _DATA_BLOCK.finditer(text):
        pos, indent = block.end() + 1, None
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            m = _DATA_ITEM.match(text, pos, end)
            if not m or (indent is not None and m.group(1) != indent):
                break
            indent = m.group(1)
            value = m.group(3)
            decoded = base64_text(value) if block.group(1) == "data" else value
            if decoded is not None and not decoded.startswith("-----BEGIN") or block.group(1) == "stringData":
                yield "k8s-secret-data", value, m.start(3), m.end(3)
            pos = end + 1


def credfiles_find(text: str, *, path: str):
    yield from pgpass_find(text, path=path)
    yield from k8s_secret_find(text)

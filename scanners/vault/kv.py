"""KV metadata, recursively, concurrently (bounded), never a value. KV version 1 mounts have no
metadata: their keys are listed (`LIST <mount>/<folder>`) and nothing else is read.

OpenBao answers `LIST <mount>/detailed-metadata/<folder>` with every key's metadata inline, so a
folder costs one request. Where that endpoint is missing (HashiCorp Vault answers it with no data
and a warning) or forbidden by the probe's policy, the probe falls back to
`LIST <mount>/metadata/<folder>` plus one metadata read per secret."""

from __future__ import annotations

from hvac import exceptions as hvac_exc
from hvac import utils as hvac_utils

from .fanout import Fanout
from .observations import KvSecret, parse_time


def _secret(mount: str, path: str, data: dict) -> KvSecret:
    return KvSecret(
        mount=mount, path=path, created_time=parse_time(data.get("created_time")),
        updated_time=parse_time(data.get("updated_time")), current_version=int(data.get("current_version") or 0),
        versions=len(data.get("versions") or {}), custom_metadata=dict(data.get("custom_metadata") or {}),
    )


def _detailed_list(conn, mount: str, path: str):
    url = hvac_utils.format_url("/v1/{mount}/detailed-metadata/{path}", mount=mount, path=path)
    return conn.client.adapter.list(url=url)


class KvWalker:
    def __init__(self, conn, fan: Fanout, errors: list[str], v1=frozenset()):
        self.conn, self.fan, self.errors = conn, fan, errors
        self.kv = conn.client.secrets.kv.v2
        self.v1 = set(v1)  # KV version 1 mounts
        self.secrets: list[KvSecret] = []
        self.failed: set[str] = set()
        self.plain: set[str] = set()  # mounts walked without detailed-metadata

    def _list(self, mount: str, path: str) -> None:
        if mount in self.v1:
            self.fan.submit(self.conn.client.secrets.kv.v1.list_secrets, path, mount, tag=("list1", mount, path))
        elif mount in self.plain:
            self.fan.submit(self.kv.list_secrets, path, mount, tag=("list", mount, path))
        else:
            self.fan.submit(_detailed_list, self.conn, mount, path, tag=("detailed", mount, path))

    def _fall_back(self, mount: str, path: str) -> None:
        self.plain.add(mount)
        self._list(mount, path)

    def walk(self, mounts: list[str]) -> list[KvSecret]:
        for mount in mounts:
            self._list(mount, "")
        for (what, mount, path), fut in self.fan.results():
            try:
                resp = fut.result()
            except hvac_exc.Forbidden:
                if what == "detailed":
                    self._fall_back(mount, path)
                    continue
                verb = "READ" if what == "meta" else "LIST"
                where = f"{mount}/{path}" if what == "list1" else f"{mount}/metadata/{path}"
                self.errors.append(f"kv: permission denied on {verb} {where}")
                self.failed.add(mount)
                continue
            except hvac_exc.InvalidPath as exc:
                if what == "detailed" and "unsupported path" in str(exc):
                    self._fall_back(mount, path)
                continue  # empty mount or folder, or deleted since the listing
            data = resp.get("data") if isinstance(resp, dict) else None
            if what == "detailed" and not isinstance(data, dict):
                self._fall_back(mount, path)  # no such endpoint here: data null plus a warning
                continue
            self._handle(what, mount, path, data or {})
        self.secrets.sort(key=lambda s: (s.mount, s.path))
        return self.secrets

    def _handle(self, what: str, mount: str, path: str, data: dict) -> None:
        if what == "meta":
            self.secrets.append(_secret(mount, path, data))
            return
        info = data.get("key_info") or {}
        for key in data.get("keys") or []:
            child = f"{path}{key}"
            if key.endswith("/"):
                self._list(mount, child)
            elif what == "list1":
                self.secrets.append(KvSecret(mount=mount, path=child, created_time=None, updated_time=None,
                                             current_version=0, versions=0, custom_metadata={}, kv_version=1))
            elif what == "detailed" and info.get(key):
                self.secrets.append(_secret(mount, child, info[key]))
            else:
                self.fan.submit(self.kv.read_secret_metadata, child, mount, tag=("meta", mount, child))

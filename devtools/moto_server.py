"""Demo only: moto's HTTP server plus one endpoint the demo seeder uses to age what it created.

    python -m devtools.moto_server --port 5055

`POST /botaudit-demo/age` with {"access_keys": {key_id: days}, "secrets": {name: days},
"root_keys": true} moves creation dates into the past (moto has no API for that) and marks the root
account as having access keys. Never point BotAudit's seeder at anything but this local server.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

ACCOUNT = "123456789012"
AGE_PATH = "/botaudit-demo/age"


def _age(body: dict) -> dict:
    from moto.iam.models import iam_backends
    from moto.secretsmanager.models import secretsmanager_backends

    iam = iam_backends[ACCOUNT]["aws"]
    done = {"access_keys": 0, "secrets": 0}
    for key_id, days in (body.get("access_keys") or {}).items():
        key = iam.access_keys.get(key_id)
        if key is not None:
            key.create_date = key.create_date - timedelta(days=int(days))
            done["access_keys"] += 1
    for region, secrets in (body.get("secrets") or {}).items():
        store = secretsmanager_backends[ACCOUNT][region].secrets
        for name, days in secrets.items():
            secret = store.get(name)
            if secret is not None:
                shift = int(days) * 86400
                secret.created_date = (secret.created_date or int(time.time())) - shift
                secret.last_changed_date = (secret.last_changed_date or int(time.time())) - shift
                done["secrets"] += 1
    if body.get("root_keys"):
        iam.account_summary._account_access_keys_present = 1
    return done


class App:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == AGE_PATH and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            done = _age(json.loads(environ["wsgi.input"].read(length) or b"{}"))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(done).encode()]
        return self.moto(environ, start_response)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    server = make_server(args.host, args.port, App(), threaded=True, request_handler=MotoRequestHandler)
    print(f"moto demo server on http://{args.host}:{args.port}", flush=True)  # noqa: T201
    server.serve_forever()


if __name__ == "__main__":
    main()

"""R19-01 (low): deploy18 added ``from firestop.infra.app_settings import log_missing_on_azure`` at the top of
``function_app.py``, so every local tool that loads the app (``alert handle``, ``serve``, the local durable host)
imported ``firestop.infra`` and ``firestop.infra.app_settings`` (~1 ms, ``python -X importtime -m firestop alert handle
examples/alerts/leaked-key.json``) to call a function that does nothing off App Service. The import and the call now sit
behind App Service's markers (``WEBSITE_SITE_NAME`` / ``WEBSITE_INSTANCE_ID``), as ``log_missing_on_azure`` looks.

Fails before the fix (main f9b1818): the first test finds ``firestop.infra.app_settings`` in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from firestop.settings import REPO_ROOT

_CHILD = """
import json, logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("firestop.settings").addHandler(Keep())
import function_app
print(json.dumps({"loaded": [n for n in ("firestop.infra", "firestop.infra.app_settings") if n in sys.modules],
                  "warned": [r.split(":")[0] for r in records]}))
"""


def _load_app(firestop_home, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("WEBSITE_SITE_NAME", "WEBSITE_INSTANCE_ID", "FUNCTIONS_WORKER_RUNTIME")}
    env.update(FIRESTOP_HOME=str(firestop_home), **extra)
    out = subprocess.run([sys.executable, "-c", _CHILD], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loading_the_app_locally_does_not_import_the_deployment_settings_table(firestop_home):
    got = _load_app(firestop_home)
    assert got["loaded"] == [] and got["warned"] == []


def test_on_app_service_the_app_still_names_a_missing_template_setting_at_start(firestop_home):
    """Guard: on App Service (the markers set, the settings check_startup requires valid) the warning is still logged."""
    from firestop.settings import SETTINGS

    special = {"FIRESTOP_SEAL_KEY": "x" * 43, "FIRESTOP_KEY_VAULT_URL": "https://kv-firestop.vault.azure.net",
               "FIRESTOP_STORAGE_BLOB_URL": "https://acct.blob.core.windows.net",
               "AzureWebJobsStorage__accountName": "acct", "AzureWebJobsStorage__credential": "managedidentity"}
    extra = {s.name: special.get(s.name, "00000000-0000-4000-8000-000000000001")  # what check_startup requires there
             for s in SETTINGS if s.required == "azure"}
    got = _load_app(firestop_home, WEBSITE_SITE_NAME="firestop-x", **extra)
    assert "FIRESTOP_ROLES" in got["warned"] and got["loaded"] == ["firestop.infra", "firestop.infra.app_settings"]

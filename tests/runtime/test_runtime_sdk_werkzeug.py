"""werkzeug's package __init__ deferred (firestop/runtime/sdk_werkzeug.py): azure.functions imports with werkzeug's
own submodules only; the re-exported names load the real __init__ into the same module; HTTP functions still
get werkzeug's request parsing. Each case runs in a fresh interpreter (the deferral acts at first import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from firestop.runtime import sdk_werkzeug

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, *, home: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FIRESTOP_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_azure_functions_imports_without_the_dev_server_and_the_exports_load_on_first_use(tmp_path):
    code = r"""
import json, sys
import firestop.runtime
from firestop.runtime import sdk_werkzeug
import azure.functions as func
before = {"deferred": sdk_werkzeug.deferred(), "serving": "werkzeug.serving" in sys.modules,
          "wrappers": "werkzeug.wrappers" in sys.modules, "http_server": "http.server" in sys.modules}
# an HTTP function's request: werkzeug's form parsing and headers, through the deferred package
req = func.HttpRequest("POST", "http://localhost/api/x", headers={"Content-Type": "application/x-www-form-urlencoded"},
                       body=b"a=1&b=two")
form = dict(req.form)
import werkzeug
package = sys.modules["werkzeug"]
request_cls = werkzeug.Request
after = {"deferred": sdk_werkzeug.deferred(), "serving": "werkzeug.serving" in sys.modules,
         "same_module": package is sys.modules["werkzeug"],
         "request_is_wrappers": request_cls is sys.modules["werkzeug.wrappers"].Request,
         "run_simple_is_serving": werkzeug.run_simple is sys.modules["werkzeug.serving"].run_simple,
         "file": werkzeug.__file__}
print(json.dumps({"before": before, "form": form, "after": after}))
"""
    out = _run(code, home=tmp_path)
    assert out["before"] == {"deferred": True, "serving": False, "wrappers": False, "http_server": False}
    assert out["form"] == {"a": "1", "b": "two"}
    after = out["after"]
    assert after["deferred"] is False and after["serving"] is True and after["same_module"] is True
    assert after["request_is_wrappers"] is True and after["run_simple_is_serving"] is True
    assert after["file"].endswith(os.path.join("werkzeug", "__init__.py"))


def test_from_werkzeug_import_a_submodule_does_not_run_the_init(tmp_path):
    code = r"""
import json, sys
from firestop.runtime import sdk_werkzeug
sdk_werkzeug.defer()
from werkzeug import http, formparser
print(json.dumps({"deferred": sdk_werkzeug.deferred(), "http": http.__name__, "formparser": formparser.__name__,
                  "serving": "werkzeug.serving" in sys.modules}))
"""
    assert _run(code, home=tmp_path) == {"deferred": True, "http": "werkzeug.http", "formparser": "werkzeug.formparser",
                                         "serving": False}


def test_nothing_is_deferred_when_werkzeug_is_already_imported(tmp_path):
    code = r"""
import json, sys
import werkzeug
from firestop.runtime import sdk_werkzeug
print(json.dumps({"did": sdk_werkzeug.defer(), "deferred": sdk_werkzeug.deferred()}))
"""
    assert _run(code, home=tmp_path) == {"did": False, "deferred": False}


def test_an_init_that_does_more_than_re_export_is_not_deferred(tmp_path):
    plain = tmp_path / "plain.py"
    plain.write_text('"""doc"""\nfrom .serving import run_simple as run_simple\nfrom .test import Client\n')
    assert sdk_werkzeug._exports(str(plain)) == ("run_simple", "Client")
    more = tmp_path / "more.py"
    more.write_text("from .serving import run_simple\n__version__ = '9'\n")
    assert sdk_werkzeug._exports(str(more)) is None
    absolute = tmp_path / "absolute.py"
    absolute.write_text("from os import path\n")
    assert sdk_werkzeug._exports(str(absolute)) is None
    assert sdk_werkzeug._exports(str(tmp_path / "missing.py")) is None

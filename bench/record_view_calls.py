"""review16 R16-06. Usage: FIRESTOP_HOME=<a home with finished incidents> PYTHONPATH=<tree> python3 bench/record_view_calls.py LABEL
(run it once per tree, side by side). Store calls (listings and reads) one finished incident's view makes: filed_record + newest_record_files, as
GET /api/incidents and incident list/show do per row (firestop.functions.http_api._status_view)."""
import os, sys, time
from collections import Counter
from firestop.storage.local import LocalStore
from firestop.settings import get_settings
import firestop.records.store as rs

calls = Counter()
for meth in ("read", "names", "read_range"):
    if hasattr(LocalStore, meth):
        orig = getattr(LocalStore, meth)
        def wrap(self, *a, _orig=orig, _m=meth, **k):
            calls[_m] += 1
            return _orig(self, *a, **k)
        setattr(LocalStore, meth, wrap)
ids = [n[:-5] for n in os.listdir(os.path.join(os.environ["FIRESTOP_HOME"], "records")) if n.endswith(".json")]
s = get_settings()
t = time.perf_counter()
for _ in range(20):
    for i in ids:
        if hasattr(rs, "filed_view"):  # the view's path after R16-06
            rs.filed_view(s, i, {"json_path": "x"})
        else:  # what _status_view did before
            rs.filed_record(s, i)
            rs.newest_record_files(s, i, {"json_path": "x"})
dt = time.perf_counter() - t
n = 20 * len(ids)
print(f"{sys.argv[1]}: per view {dict((k, v / n) for k, v in calls.items())}, {sum(calls.values()) / n:.1f} store calls, {dt / n * 1e3:.2f} ms")

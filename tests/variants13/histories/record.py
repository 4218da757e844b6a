"""Run in a tree (cwd): record a forged incident (source check on, pending joins) at its genuine gate, after its
list activity, with one genuine join kept before the list. Prints JSON: instance id, input, history, and the
orchestrator's state (actions) when that tree's orchestrator replays the history."""
import json, os, sys, tempfile
sys.path.insert(0, os.getcwd())
os.environ["FIRESTOP_HOME"] = tempfile.mkdtemp(prefix="l14-rec-")
os.environ["FIRESTOP_ALERT_SOURCE_CHECK"] = "on"
from firestop.cli.wiring import function_app, sandbox_environment
from firestop.runtime import ManagementServer
from firestop.runtime import history as h
from firestop.runtime.context import build_context
from firestop.runtime.functions import call_orchestrator, index_app
from tests.e2e.test_webhook import post
from tests.redteam15.test_rt15_forged_alert_holds_resource import _forged
from tests.verify12.test_v12_forged_dimensions import RAW, _fire_genuine

env = sandbox_environment()
with ManagementServer(env.host) as server:
    app = function_app()
    _fire_genuine(env)
    forged = json.loads(post(app, server, json.dumps(_forged()).encode()).get_body())["id"]
    joined = json.loads(post(app, server, RAW.encode() if isinstance(RAW, str) else RAW).get_body())
    assert joined.get("correlatedTo") == forged, joined
    env.host.run_until_idle()
    status = env.host.get_status(forged, show_history=True)
    assert status.runtime_status == "Running", status.runtime_status
    history = status.history
    input_json = json.dumps(status.input)
    body = build_context(instance_id=forged, history=h.mark_played(history, []), input_json=input_json,
                         parent_instance_id=None)
    state = json.loads(call_orchestrator(index_app(app).orchestrator("incident_orchestrator"), body))
    print(json.dumps({"instance_id": forged, "input": input_json, "history": history, "state": state}))
env.close()

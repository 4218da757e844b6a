"""``python -m firestop infra``: the playbook-dependent parameters of ``infra/azuredeploy.json``; ``infra deploy``: that
template deployed into the sandbox tenant (:mod:`firestop.infra.deploy`; its exit codes are in :func:`infra_deploy`).

Exit codes: 0 written/printed and complete; 3 written/printed but a required parameter of the
template is still needed from the operator (``Still needed: NAME — pass --flag VALUE: what it is (or set
parameters.NAME.value in the file)`` on stderr, one line
each; stdout — or ``--out`` — holds the parameters file either way, also with ``--json``); 2 bad input
(a malformed or unknown scope, a missing one: the message names the flag); 1 internal error. Scopes are checked to exist on the sandbox tenant under
``FIRESTOP_HOME`` (default) or on Azure (``--azure``, ``DefaultAzureCredential`` after ``az login``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

import typer

from firestop.cli.output import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_NEEDS_RESPONDER, clean, console, err_console, fail, print_json
from firestop.private import private_dirs



_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
#: An Entra object ID is a GUID; the sandbox's demo identities are ``oid-…``: both fit, no quote or space does.
_RG_NAME = re.compile(r"[-\w._()]{1,90}/[A-Za-z0-9-]{2,60}\Z")  # resource group / site name (ARM naming rules)


def _clients(azure: bool, as_json: bool = False):
    """The ARM clients: real Azure (``azure``) or the sandbox tenant under FIRESTOP_HOME. A FIRESTOP_HOME that cannot be
    a directory (a file, no permission) is a wrong setting: exit 2 naming it (:func:`firestop.cli.output.fail`), never
    an internal error (new-user trial: ``FIRESTOP_HOME=/etc/passwd doctor`` exited 1)."""
    from firestop.azure.clients import ClientFactory
    from firestop.settings import Settings

    if azure:
        from azure.identity import DefaultAzureCredential

        return ClientFactory(credential=DefaultAzureCredential(exclude_managed_identity_credential=True))
    from firestop.sandbox import Tenant

    settings = Settings.from_env()
    try:
        private_dirs(settings.home)
        tenant = Tenant.open(settings.sandbox_dir)
    except OSError as exc:  # a file in the way, no permission, a read-only or pseudo file system
        fail(f"FIRESTOP_HOME: {settings.home} is not a usable directory ({type(exc).__name__}: {exc.strerror or exc}); "
             "point FIRESTOP_HOME at a writable directory, or unset it for the default", EXIT_BAD_INPUT, as_json=as_json)
    return ClientFactory(credential=tenant.credential, transport=tenant.transport, clock=tenant.clock, sandbox=True, polling_interval=0)


def infra(
    ctx: typer.Context,
    subscription: Optional[str] = typer.Option(None, "--subscription", help="Subscription ID of the protected resources (default on the sandbox: its subscription; required with --azure)."),
    resource_group: list[str] = typer.Option([], "--resource-group", metavar="NAME", help="Resource group whose every resource the role covers (repeatable). Prefer --account/--nsg."),
    account: list[str] = typer.Option([], "--account", metavar="RG/NAME", help="Azure OpenAI account to protect: <rg>/<name> or resource ID (repeatable)."),
    nsg: list[str] = typer.Option([], "--nsg", metavar="RG/NAME", help="Network security group network.block_ips may edit (repeatable)."),
    key_vault: Optional[str] = typer.Option(None, "--key-vault", metavar="RG/NAME", help="The consumers' Key Vault (role on the one secret only)."),
    key_secret_name: str = typer.Option("openai-api-key", "--key-secret-name", help="Secret the consumers read the key from."),
    workspace: Optional[str] = typer.Option(None, "--workspace", metavar="RG/NAME", help="Log Analytics workspace queried for evidence; its workspace ID (logWorkspaceId) is read from ARM."),
    defender_resource_group: list[str] = typer.Option([], "--defender-resource-group", metavar="NAME", help="Resource group whose Defender for Cloud alerts Firestop resolves (repeatable; default: the --account groups)."),
    sentinel_workspace: Optional[str] = typer.Option(None, "--sentinel-workspace", metavar="RG/NAME", help="Log Analytics workspace Microsoft Sentinel runs on (incidents Firestop comments on and closes)."),
    apim: list[str] = typer.Option([], "--apim", metavar="RG/NAME", help="API Management service whose subscriptions the apim.* runbooks suspend (repeatable)."),
    entra_client_id: Optional[str] = typer.Option(None, "--entra-client-id", help="appId of the app registration fronting the API."),
    log_workspace_id: Optional[str] = typer.Option(None, "--log-workspace-id", metavar="GUID", help="Workspace ID of the evidence workspace, for FIRESTOP_LOG_WORKSPACE_ID: only where --workspace cannot be read (it is read from there)."),
    playbooks: Optional[Path] = typer.Option(None, "--playbooks", metavar="DIR", help="Playbook folder (default FIRESTOP_PLAYBOOKS)."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write the parameters file here (e.g. infra/azuredeploy.parameters.json)."),
    detect_out: Optional[Path] = typer.Option(None, "--detect-out", metavar="FILE", help="Also write the ARM template of the playbooks' alert rules and the diagnostic settings of the accounts and the --apim services (parameters actionGroupId, workspaceId, nsgId, automationPrincipalId, strictRaiPolicy, apimId)."),
    azure: bool = typer.Option(False, "--azure", help="Check the scopes on real Azure (az login) instead of the sandbox tenant."),
    as_json: bool = typer.Option(False, "--json", help="Print the parameters file as JSON."),
) -> None:
    """Generate the parameters of infra/azuredeploy.json that follow from the playbooks: custom role, where it is assigned, action group.
    `infra deploy` deploys the template into the sandbox tenant."""
    if ctx.invoked_subcommand is not None:  # `infra deploy …`: the generator's flags belong before no sub-command
        # the sub-command refuses them (it knows whether to answer in JSON); ctx.meta is shared with its context
        ctx.meta[_GENERATOR_FLAGS] = [p.opts[0] for p in ctx.command.params  # typer vendors click: the source by name
                                      if getattr(ctx.get_parameter_source(p.name), "name", "DEFAULT") != "DEFAULT"]
        return
    from firestop.infra import parameters as P
    from firestop.infra import scopes as S
    from firestop.playbooks import PlaybookError, load_playbooks
    from firestop.settings import Settings

    folder = playbooks or Settings.from_env().playbooks_dir
    if not folder.is_dir():
        fail(f"--playbooks: {folder} is not a directory; give the folder of playbook YAML files", EXIT_BAD_INPUT, as_json=as_json)
    try:
        loaded = load_playbooks(folder)
    except PlaybookError as exc:
        fail(f"--playbooks: {clean(str(exc).splitlines()[0])} (check it with: playbook validate {folder})", EXIT_BAD_INPUT, as_json=as_json)
    if subscription is None:
        if azure:
            fail("--subscription: required with --azure; see az account show --query id", EXIT_BAD_INPUT, as_json=as_json)
        from firestop.sandbox.seed import read_seed_file

        subscription = str(read_seed_file()["subscription_id"])
    try:
        scopes = S.parse(subscription=subscription, resource_groups=resource_group, accounts=account, nsgs=nsg,
                         key_vault=key_vault, key_secret_name=key_secret_name, workspace=workspace,
                         defender_resource_groups=defender_resource_group, sentinel_workspace=sentinel_workspace, apim=apim)
        S.check(scopes, _clients(azure, as_json))
    except S.ScopeError as exc:
        fail(f"{exc.flag}: {clean(exc.message)}", EXIT_BAD_INPUT, as_json=as_json)
    log_workspace_id = _workspace_id(log_workspace_id, scopes.workspace_customer_id, workspace, as_json)
    doc = P.build(loaded, scopes, key_secret_name=key_secret_name, entra_client_id=entra_client_id, log_workspace_id=log_workspace_id)
    if detect_out is not None:
        from firestop.infra.detection import template as detect_template

        accounts = [f"/subscriptions/{scopes.subscription_id}/resourceGroups/{r.resource_group}/providers/{r.path}" for r in scopes.resources
                    if r.path.lower().startswith("microsoft.cognitiveservices/accounts/")]
        if not accounts:
            fail("--detect-out: the rules are bound to protected accounts; give at least one --account", EXIT_BAD_INPUT, as_json=as_json)
        detect_out.write_text(json.dumps(detect_template(loaded, accounts=accounts, subscription_id=scopes.subscription_id,
                                                         action_group_rg=accounts[0].split("/")[4],
                                                         apim_services=scopes.write_back_ids()[1]), indent=2) + "\n", encoding="utf-8")
        if not as_json:
            console.print(f"Wrote {detect_out} (deploy it into resource group {accounts[0].split('/')[4]} after infra/azuredeploy.json)",
                          highlight=False, markup=False)
    if out is not None:
        out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if as_json or out is None:
        print_json(doc)
    else:
        console.print(f"Wrote {out}", highlight=False, markup=False)
    needed = P.missing(doc)
    for name, how in needed.items():  # on stderr: stdout may be the parameters file itself
        err_console.print(f"Still needed: {name} — {how} (or set parameters.{name}.value in the file)",
                          highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_NEEDS_RESPONDER if needed else 0)


def _workspace_id(given: Optional[str], read: Optional[str], workspace: Optional[str], as_json: bool) -> Optional[str]:
    """logWorkspaceId: ``--log-workspace-id`` when given (a GUID, and — with ``--workspace`` — that workspace's own ID, as
    ARM answered it), else the ID read from ``--workspace``, else None (still needed). Exit 2 naming the flag otherwise."""
    if given is None:
        return read
    given = given.strip()
    if not _GUID.match(given):
        fail(f"--log-workspace-id: {given[:80]!r} is not a workspace ID (a GUID); drop it and pass --workspace <resource group>/<name> "
             "(its ID is read from ARM), or see az monitor log-analytics workspace show --query customerId", EXIT_BAD_INPUT, as_json=as_json)
    if read is not None and given.lower() != read.lower():
        fail(f"--log-workspace-id: {given} is not the ID of --workspace {clean(workspace or '')} (ARM: {read}); drop --log-workspace-id, "
             "it is read from --workspace", EXIT_BAD_INPUT, as_json=as_json)
    return given


def doctor(
    subscription: Optional[str] = typer.Option(None, "--subscription", help="Subscription of the protected resources (default on the sandbox: its subscription; required with --azure)."),
    principal_id: Optional[str] = typer.Option(None, "--principal-id", help="Object ID of Firestop's identity (default FIRESTOP_AUTOMATION_PRINCIPAL_ID)."),
    action_group: Optional[str] = typer.Option(None, "--action-group", metavar="RG/NAME", help="Action group that should post to this app."),
    app_host: Optional[str] = typer.Option(None, "--app-host", help="The app's host name (default WEBSITE_HOSTNAME)."),
    app_name: Optional[str] = typer.Option(None, "--app", metavar="RG/NAME", help="The Function App, to check its App Service authentication."),
    storage: Optional[str] = typer.Option(None, "--storage", metavar="RG/NAME", help="Firestop's storage account, to check that its WORM policies are locked and its blob audit logs are on."),
    vault: Optional[str] = typer.Option(None, "--vault", metavar="RG/NAME", help="Firestop's own Key Vault (the seal key's), to check its AuditEvent logs are on."),
    playbooks: Optional[Path] = typer.Option(None, "--playbooks", metavar="DIR", help="Playbook folder (default FIRESTOP_PLAYBOOKS)."),
    azure: bool = typer.Option(False, "--azure", help="Check real Azure (az login / managed identity) instead of the sandbox tenant."),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON."),
) -> None:
    """Check a configuration: settings, storage and its WORM policy, the identity's permissions vs the playbooks, App Service
    authentication, the action group, the alert rules, the WORM policies' lock and the audit logs. Exit 0 all ok, 3 problems."""
    import os

    from firestop.cli.output import EXIT_NEEDS_RESPONDER
    from firestop.infra import doctor as D
    from firestop.playbooks import PlaybookError, load_playbooks
    from firestop.settings import Settings

    settings = Settings.from_env()
    folder = playbooks or settings.playbooks_dir
    try:
        loaded = load_playbooks(folder) if folder.is_dir() else None
    except PlaybookError as exc:
        fail(f"--playbooks: {clean(str(exc).splitlines()[0])}", EXIT_BAD_INPUT, as_json=as_json)
    if loaded is None:
        fail(f"--playbooks: {folder} is not a directory", EXIT_BAD_INPUT, as_json=as_json)
    if subscription is None:
        if azure:
            fail("--subscription: required with --azure; see az account show --query id", EXIT_BAD_INPUT, as_json=as_json)
        from firestop.sandbox.seed import read_seed_file

        subscription = str(read_seed_file()["subscription_id"])
    if not _GUID.match(subscription):
        fail(f"--subscription: {subscription[:80]!r} is not a subscription ID (GUID); see az account show --query id",
             EXIT_BAD_INPUT, as_json=as_json)
    principal_id_given = principal_id is not None
    principal_id = principal_id or os.environ.get("FIRESTOP_AUTOMATION_PRINCIPAL_ID")
    if principal_id is not None and not _GUID.match(principal_id):  # an Entra object ID; it lands in an OData $filter
        where = "--principal-id" if principal_id_given else "FIRESTOP_AUTOMATION_PRINCIPAL_ID"
        fail(f"{where}: {principal_id[:80]!r} is not an object ID (a GUID, e.g. 00000000-0000-0000-0000-000000000000); "
             "see az identity show --query principalId (or FIRESTOP_AUTOMATION_PRINCIPAL_ID)", EXIT_BAD_INPUT, as_json=as_json)
    if action_group is not None and action_group.count("/") != 1:
        fail(f"--action-group: {action_group!r} is not <resource group>/<name>", EXIT_BAD_INPUT, as_json=as_json)
    if app_name is not None and not _RG_NAME.match(app_name):
        fail(f"--app: {app_name[:80]!r} is not <resource group>/<function app name>", EXIT_BAD_INPUT, as_json=as_json)
    for flag, value, what in (("--storage", storage, "storage account"), ("--vault", vault, "key vault")):
        if value is not None and not _RG_NAME.match(value):
            fail(f"{flag}: {value[:80]!r} is not <resource group>/<{what} name>", EXIT_BAD_INPUT, as_json=as_json)
    clients = _clients(azure, as_json)
    checks = D.run(clients=clients, subscription_id=subscription, env=os.environ, on_azure=azure, home=settings.home,
                   playbooks=loaded, principal_id=principal_id,
                   action_group=action_group, app_host=app_host, credential=clients.credential, app=app_name,
                   storage=storage, vault=vault)
    checks.insert(next((i for i, c in enumerate(checks) if c["about"] != D.THIS_MACHINE), len(checks)), route_roles_check())
    problems = [c for c in checks if c["status"] == D.PROBLEM]
    from firestop.trust import on_azure

    note = D.not_checked_here(azure=azure, in_app=on_azure())
    if as_json:
        print_json({"ok": not problems, "checks": checks, **({"not_checked_here": note} if note else {})})
    else:
        headings = {D.THIS_MACHINE: "On this machine (this process's environment and FIRESTOP_HOME"
                                    + (", not the deployed app's settings):" if note else "):"),
                    D.AZURE: ("On Azure, through ARM with your sign-in:" if azure else "On the sandbox tenant, through ARM:")}
        for about in (D.THIS_MACHINE, D.AZURE):
            console.print(headings[about], highlight=False, markup=False)
            for c in (c for c in checks if c["about"] == about):
                mark = {"ok": "✔", "problem": "✘", "skipped": "–"}[c["status"]]
                console.print(f"  {mark} {c['check']}: {clean(c['detail'])}", highlight=False, markup=False, soft_wrap=True)
        if note:
            console.print(note, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_NEEDS_RESPONDER if problems else 0)


def route_roles_check() -> dict[str, Any]:
    """doctor's ``route roles`` check (on this machine: the code it would serve): every people's (anonymous-level)
    HTTP route of ``function_app.py`` declares its role where it is defined (:mod:`firestop.trust.route_roles`, the
    role its check uses; what ``serve`` prints). A route that declares none is a problem: anyone reaching it is
    checked against no role. Read from the declarations, never from the functions' source."""
    from firestop.cli.serve_cmd import route_roles
    from firestop.cli.wiring import function_app
    from firestop.infra.doctor import OK, PROBLEM, SKIPPED, THIS_MACHINE
    from firestop.runtime.serve import http_routes

    check = "route roles"
    try:
        app = function_app()
        routes = http_routes(app)
        declared = route_roles(app)
    except Exception as exc:  # noqa: BLE001 — the app does not load here (its own settings check, a missing package)
        return {"check": check, "status": SKIPPED, "detail": f"— not checkable: function_app.py does not load here "
                f"({type(exc).__name__}: {exc})", "about": THIS_MACHINE}
    people = sorted(r.function for r in routes if r.auth_level == "anonymous")
    keyed = sorted(r.function for r in routes if r.auth_level != "anonymous")
    missing = [f for f in people if f not in declared]
    roles = {f: declared.get(f) for f in people if f in declared}
    if missing:
        return {"check": check, "status": PROBLEM, "detail": f"{', '.join(missing)} declare(s) no role: anyone reaching "
                "them is checked against none; add @requires(Role.…) above the def (firestop/trust/route_roles.py)",
                "undeclared": missing, "roles": roles, "about": THIS_MACHINE}
    counts = {}
    for role in roles.values():
        counts[role or "public"] = counts.get(role or "public", 0) + 1
    return {"check": check, "status": OK, "detail": f"{len(people)} people's routes declare their role ("
            + ", ".join(f"{n} {r}" for r, n in sorted(counts.items())) + f"); {len(keyed)} machine routes take the function key",
            "roles": roles, "about": THIS_MACHINE}


#: ``ctx.meta`` key: the flags of ``infra`` itself given before a sub-command (``infra --account X deploy``)
_GENERATOR_FLAGS = "firestop.infra.generator_flags"


def infra_deploy(
    ctx: typer.Context,
    parameters: Optional[Path] = typer.Option(None, "--parameters", metavar="FILE", help="ARM parameters file (infra … --out FILE; default: infra/azuredeploy.parameters.json, the sandbox tenant's)."),
    template: Optional[Path] = typer.Option(None, "--template", metavar="FILE", help="ARM template (default: infra/azuredeploy.json)."),
    resource_group: str = typer.Option("rg-ai-prod", "--resource-group", metavar="NAME", help="Resource group of the sandbox tenant to deploy into."),
    name: str = typer.Option("firestop", "--name", help="Deployment name (az deployment group create --name)."),
    what_if: bool = typer.Option(False, "--what-if", help="Show what the deployment would create or change; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Deploy infra/azuredeploy.json into the sandbox tenant under FIRESTOP_HOME through azure-mgmt-resource (README
    "Deploy to Azure" step 4, rehearsed; on Azure use az deployment group create). On a name's first deployment the
    alertsFunctionKey and sealKey the file leaves out are generated (never shown); sealKeyRetired left out keeps the
    retired seal keys the vault holds (none yet: it is given as 'none'). Exit 0 deployed (or previewed),
    2 bad input (a file, the resource group, or ARM refusing the template: the message names the flag and ARM's error),
    1 internal error. `sandbox reset` undoes it."""
    from firestop.infra import deploy as D
    from firestop.settings import REPO_ROOT, Settings

    given = ctx.meta.get(_GENERATOR_FLAGS) or []
    if given:
        fail(f"{given[0]}: a flag of infra itself, not of infra deploy; generate the parameters first "
             "(infra … --out FILE), then: infra deploy --parameters FILE", EXIT_BAD_INPUT, as_json=as_json)
    template_path = template or REPO_ROOT / "infra" / "azuredeploy.json"
    parameters_path = parameters or REPO_ROOT / "infra" / "azuredeploy.parameters.json"
    try:
        tpl, tpl_text = D.read_json_text(template_path, "--template")
        params = D.parameters_of(D.read_json(parameters_path, "--parameters"))
        clients = _clients(False, as_json)
        from firestop.sandbox.seed import read_seed_file

        subscription = str(read_seed_file()["subscription_id"])
        result = D.deploy(clients, subscription_id=subscription, resource_group=resource_group, name=name, template=tpl,
                          parameters=params, what_if=what_if, template_text=tpl_text)
    except D.DeployInputError as exc:
        fail(f"{exc.flag}: {clean(exc.message)}", EXIT_BAD_INPUT, as_json=as_json)
    where = str(Settings.from_env().sandbox_dir)
    result = {**result, "template": str(template_path), "parameters": str(parameters_path), "state_dir": where}
    if as_json:
        print_json(result)
    elif what_if:
        kinds: dict[str, int] = {}
        for change in result["changes"]:
            kinds[change["change_type"]] = kinds.get(change["change_type"], 0) + 1
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "no resources"
        console.print(f"What-if of {template_path} in resource group {resource_group} of the sandbox tenant ({where}): "
                      f"{len(result['changes'])} resource(s) ({counts}), nothing written", highlight=False, markup=False, soft_wrap=True)
        for change in result["changes"]:
            console.print(f"  {change['change_type']:<9} {clean(change['resource_id'])}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(f"Deployed {template_path} with {parameters_path} into resource group {resource_group} of the sandbox "
                      f"tenant ({where}) as deployment {result['deployment']}: {result['provisioning_state']}, "
                      f"{len(result['resources'])} resources"
                      + ("" if result["first"] else " (deploying again: the resources the template deploys only with the "
                         "keys generated on a first deployment — the seal-key secret, the action group — are left as it made them)"),
                      highlight=False, markup=False, soft_wrap=True)
        if result["generated"]:
            console.print(f"Generated (not shown): {', '.join(result['generated'])}", highlight=False, markup=False)
        said = {"kept": "kept what Firestop's vault holds (firestop-seal-key-retired; sealKeyRetired not given)",
                "initialised": "none yet (firestop-seal-key-retired written as 'none': the vault had no such secret)",
                "given": "as given in sealKeyRetired (firestop-seal-key-retired written)"}.get(result.get("seal_key_retired") or "")
        if said:
            console.print(f"Retired seal keys: {said}", highlight=False, markup=False, soft_wrap=True)
        for key, value in sorted(result["outputs"].items()):
            console.print(f"  {key}: {clean(str(value))}", highlight=False, markup=False, soft_wrap=True)
    if not what_if and str(result.get("provisioning_state")) != "Succeeded":  # shown above (or in the JSON): not done
        raise typer.Exit(EXIT_INTERNAL)


def register(app: typer.Typer) -> None:
    infra_app = typer.Typer(help=infra.__doc__, invoke_without_command=True, no_args_is_help=False)
    infra_app.callback(invoke_without_command=True)(infra)
    infra_app.command("deploy")(infra_deploy)
    app.add_typer(infra_app, name="infra")
    app.command("doctor")(doctor)

"""Least privilege: each deployed stage's IAM policy against the code's boto3 calls.

``.chalice/policy-<stage>-api.json`` and ``policy-<stage>-rotation.json`` (one
per function, ``iam_policy_file`` in ``.chalice/config.json``), taken together
here, are what the Lambda functions of a deployed stage may do (``autogen_policy`` is off: Chalice's generator misses DynamoDB
used through ``boto3.resource(...).Table`` in chalicelib). These tests read
the code that Lambda runs with :mod:`ast`, list the DynamoDB and SSM
operations it can call, map them to IAM actions, and compare:

- every action the code needs is granted (else the first request in AWS
  fails with AccessDenied, which no local test would see);
- no DynamoDB action is granted that the code does not use;
- every DynamoDB/SSM/Logs resource names exactly the stage's table, parameter
  or log groups: no ``*`` or ``?`` in the resource part of an ARN, and no
  wildcard action.

"The code that Lambda runs" is what the handlers can reach: ``app.py`` and
the chalicelib modules it imports (directly or not, including imports inside
functions), narrowed to the functions reachable by name from ``app.py``'s
functions and the modules' import-time code (:func:`reachable`). Code that
only the CLI reaches, such as publishing and pruning old releases, needs no
grant in the Lambda role: the CLI runs with the operator's credentials.

How calls are found: any attribute named after a boto3 operation
(``self._client.get_item``, ``client.batch_write_item``, a bound method handed to
a helper like ``self._call(self._client.query, ...)``), with the operation
names taken from botocore's own service models. All DynamoDB calls sit in
the one door, ``chalicelib/store/table.py``: a handler reaches an operation
through the door method that makes it (``ReleaseStore.get_current_release``
-> ``Table.get`` -> ``get_item``), so the actions are those of the door
methods the handlers' code names. ``TransactWriteItems`` and
``TransactGetItems`` are not IAM actions: a transaction is authorised item by
item, so the ``"Put"``/``"Update"``/``"Delete"``/``"ConditionCheck"``/``"Get"``
keys of the dict literals in a module that calls them (the door's
``put_action``/``update_action`` builders) count as
``PutItem``/``UpdateItem``/``DeleteItem``/``ConditionCheckItem``/``GetItem``
(AWS, "Using IAM with DynamoDB transactions").
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
DEPLOYED_STAGES = sorted(s for s in CONFIG["stages"] if s != "local")
APP_NAME = CONFIG["app_name"]

# boto3 calls whose IAM action is not simply the operation's name.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
NOT_IAM_ACTIONS = {"transact_write_items", "transact_get_items"}
RESOURCE_METHODS = {"batch_writer": "dynamodb:BatchWriteItem"}  # boto3's Table.batch_writer()
NEEDS_A_DECISION = {"execute_statement", "batch_execute_statement", "execute_transaction"}  # PartiQL


def _operation_actions() -> dict[str, set[str]]:
    """``{"get_item": {"dynamodb:GetItem"}, "get_parameter": {"ssm:GetParameter"}, ...}``.

    All DynamoDB operations, and SSM's parameter operations (SSM's other 140
    operations have names like ``get_document`` that are too generic to scan for).
    """
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    out: dict[str, set[str]] = {}
    for service in ("dynamodb", "ssm"):
        for op in session.get_service_model(service).operation_names:
            snake = xform_name(op)
            if service == "ssm" and "parameter" not in snake:
                continue
            out.setdefault(snake, set()).add(f"{service}:{op}")
    for name, action in RESOURCE_METHODS.items():
        out[name] = {action}
    return out


OPERATIONS = _operation_actions()


@dataclass(frozen=True)
class Use:
    action: str
    where: str  # "chalicelib/store/table.py:171 (get_item)"


def _module_path(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "chalicelib":
        return None
    path = ROOT.joinpath(*parts).with_suffix(".py")
    if path.is_file():
        return path
    package = ROOT.joinpath(*parts) / "__init__.py"
    return package if package.is_file() else None


def _imports(path: Path) -> set[Path]:
    """chalicelib modules imported anywhere in ``path`` (top level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.relative_to(ROOT).with_suffix("").parts
    package = here[:-1] if path.name != "__init__.py" else here
    found: set[Path] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - (node.level - 1)])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [module] + [f"{module}.{a.name}" for a in node.names]
        for name in names:
            target = _module_path(name)
            if target is not None:
                found.add(target)
    return found


def lambda_modules() -> list[Path]:
    """``app.py`` and the chalicelib modules it reaches through imports."""
    seen: set[Path] = set()
    todo = [ROOT / "app.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(_imports(path) - seen)
    return sorted(seen)


@dataclass(frozen=True)
class Function:
    rel: str  # "chalicelib/store/releases.py"
    qualname: str  # "ReleaseStore.delete_release"
    node: ast.AST


def _index(trees: dict[str, ast.Module]) -> dict[str, list[Function]]:
    """Every function and method of the Lambda modules, by bare name."""
    out: dict[str, list[Function]] = {}

    def visit(rel: str, body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.setdefault(node.name, []).append(Function(rel, prefix + node.name, node))
            elif isinstance(node, ast.ClassDef):
                out.setdefault(node.name, []).append(Function(rel, prefix + node.name, node))
                visit(rel, node.body, f"{prefix}{node.name}.")

    for rel, tree in trees.items():
        visit(rel, tree.body, "")
    return out


def _module_level(tree: ast.Module) -> list[ast.AST]:
    """What runs at import: statements outside function bodies, decorators and defaults included."""
    out: list[ast.AST] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.extend(node.decorator_list)
                out.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
            elif isinstance(node, ast.ClassDef):
                out.extend(node.decorator_list + node.bases)
                visit(node.body)
            else:
                out.append(node)

    visit(tree.body)
    return out


def _names(node: ast.AST) -> set[str]:
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


DUNDERS = {
    "__init__",
    "__post_init__",
    "__call__",
    "__enter__",
    "__exit__",
    "__iter__",
    "__next__",
    "__getitem__",
    "__len__",
    "__contains__",
    "__eq__",
    "__hash__",
    "__str__",
    "__repr__",
}


def reachable() -> tuple[dict[str, ast.Module], list[tuple[str, ast.AST]]]:
    """The code a deployed Lambda can run: ``(trees, [(module, node), ...])``.

    Roots: every module's import-time code and every function of ``app.py``
    (the handlers, the schedule, their helpers). From there, any name or
    attribute that equals the name of a function or method of a Lambda module
    reaches it (calls, and bound methods handed on, like
    ``self._call(self._client.query)``); a class name reaches its dunder
    methods. Matching by bare name over-approximates (every ``campaign``
    method is reached when one is), which errs towards demanding an action,
    never towards missing one. Code only the CLI reaches (publishing,
    pruning old releases, creating the local table) is left out.
    """
    trees = {p.relative_to(ROOT).as_posix(): ast.parse(p.read_text(encoding="utf-8")) for p in lambda_modules()}
    index = _index(trees)
    todo: list[tuple[str, ast.AST]] = []
    for rel, tree in trees.items():
        todo.extend((rel, node) for node in _module_level(tree))
        if rel == "app.py":
            todo.extend((rel, f.node) for fs in index.values() for f in fs if f.rel == "app.py")
    seen_functions: set[tuple[str, str]] = set()
    out: list[tuple[str, ast.AST]] = []
    while todo:
        rel, node = todo.pop()
        out.append((rel, node))
        for name in _names(node):
            for function in index.get(name, []):
                key = (function.rel, function.qualname)
                if key in seen_functions:
                    continue
                seen_functions.add(key)
                if isinstance(function.node, ast.ClassDef):
                    # The class body's own statements are import-time code (already roots).
                    for member in function.node.body:
                        if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and member.name in DUNDERS:
                            todo.append((function.rel, member))
                            seen_functions.add((function.rel, f"{function.qualname}.{member.name}"))
                else:
                    todo.append((function.rel, function.node))
    return trees, out


def reachable_functions() -> set[str]:
    """``{"chalicelib/store/rotations.py:RotationStore.put_rotation", ...}``, for the sanity tests."""
    trees, nodes = reachable()
    names = set()
    index = _index(trees)
    by_node = {id(f.node): f for fs in index.values() for f in fs}
    for _rel, node in nodes:
        if id(node) in by_node:
            f = by_node[id(node)]
            names.add(f"{f.rel}:{f.qualname}")
    return names


def code_uses() -> tuple[list[Use], list[str]]:
    """Every IAM action the reachable Lambda code can need, with where; and PartiQL calls to decide on."""
    _, nodes = reachable()
    uses: list[Use] = []
    undecided: list[str] = []
    transaction_modules: set[str] = set()
    transaction_keys: list[tuple[str, str, int]] = []
    seen: set[tuple[str, int, str]] = set()
    for rel, top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Attribute):
                name = node.attr
                if (rel, node.lineno, name) in seen:
                    continue
                seen.add((rel, node.lineno, name))
                where = f"{rel}:{node.lineno} ({name})"
                if name in NEEDS_A_DECISION:
                    undecided.append(where)
                elif name in NOT_IAM_ACTIONS:
                    transaction_modules.add(rel)
                elif name in OPERATIONS:
                    uses.extend(Use(a, where) for a in sorted(OPERATIONS[name]))
            elif isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEM_ACTIONS:
                        transaction_keys.append((rel, key.value, key.lineno))
    uses.extend(
        Use(TRANSACTION_ITEM_ACTIONS[key], f"{rel}:{line} (transaction item {key!r})")
        for rel, key, line in sorted(set(transaction_keys))
        if rel in transaction_modules
    )
    return uses, undecided


FUNCTIONS = ("api_handler", "rotate_homepage")
SUB = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"  # resolved by Fn::Sub (tools/package.py)


def policy_files(stage: str) -> list[Path]:
    return [ROOT / ".chalice" / CONFIG["stages"][stage]["lambda_functions"][f]["iam_policy_file"] for f in FUNCTIONS]


def load_policy(stage: str) -> dict:
    """The stage's functions' policies as one: what any Lambda of the stage may do
    (tests/functional/test_roles.py holds each function to its own code path)."""
    statements = []
    for path in policy_files(stage):
        statements += json.loads(path.read_text(encoding="utf-8"))["Statement"]
    return {"Version": "2012-10-17", "Statement": statements}


def _listify(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def granted(policy: dict) -> dict[str, set[str]]:
    """``{action: {resource ARN, ...}}`` over the policy's Allow statements."""
    out: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        for action in _listify(statement["Action"]):
            out.setdefault(action, set()).update(_listify(statement["Resource"]))
    return out


def stage_env(stage: str) -> dict[str, str]:
    return {**CONFIG.get("environment_variables", {}), **CONFIG["stages"][stage].get("environment_variables", {})}


def table_arn(stage: str) -> str:
    return SUB % ("dynamodb", f"table/{stage_env(stage)['TABLE_NAME']}")


def parameter_arn(stage: str) -> str:
    name = stage_env(stage)["SIGNING_SECRET_PARAMETER"]
    assert name.startswith("/"), name
    return SUB % ("ssm", f"parameter{name}")


def log_groups_arn(stage: str) -> str:
    """The streams of the stage's log group ``/aws/lambda/campaign-platform-<stage>`` (the
    packaged stack's shared group, which the stack creates: no ``logs:CreateLogGroup``)."""
    return SUB % ("logs", f"log-group:/aws/lambda/{APP_NAME}-{stage}:*")


WILDCARD_SERVICES = ("dynamodb", "ssm", "logs", "kms", "secretsmanager")


def wildcard_problems(policy: dict) -> list[str]:
    """Statements that grant more than named resources, for the services that allow naming them.

    An ARN is ``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``; the policy files
    write the first, third and fourth as ``${AWS::Partition}``, ``${AWS::Region}``
    and ``${AWS::AccountId}``, which the packaged template resolves with
    ``Fn::Sub``. The RESOURCE part may hold no ``*`` or ``?``, with one
    exception: the log group's trailing ``:*``, which covers the log streams
    Lambda creates.
    X-Ray's write actions support no resource ARN at all, so ``"*"`` is right for them.
    """
    problems = []
    for statement in policy["Statement"]:
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{statement.get('Sid')}: NotAction/NotResource grant everything else")
        actions = _listify(statement.get("Action", []))
        resources = _listify(statement.get("Resource", []))
        for action in actions:
            service = action.split(":")[0]
            if action == "*" or (service in WILDCARD_SERVICES and ("*" in action or "?" in action)):
                problems.append(f"{statement.get('Sid')}: wildcard action {action!r}")
        services = {a.split(":")[0] for a in actions}
        if not services & set(WILDCARD_SERVICES):
            continue
        for resource in resources:
            for pseudo, value in (("${AWS::Partition}", "aws"), ("${AWS::Region}", "r"), ("${AWS::AccountId}", "a")):
                resource = resource.replace(pseudo, value)
            parts = resource.split(":", 5)
            if resource == "*" or len(parts) < 6:
                problems.append(f"{statement.get('Sid')}: resource {resource!r} is not a named ARN")
                continue
            name = parts[5]
            if services == {"logs"} and name.startswith("log-group:/aws/lambda/") and name.endswith("*"):
                name = name[:-1]
            if "*" in name or "?" in name:
                problems.append(f"{statement.get('Sid')}: wildcard in resource {resource!r}")
    return problems


# ------------------------------------------------------------------ the scanner itself


def test_the_scanner_follows_the_imports_of_app_py():
    rels = {p.relative_to(ROOT).as_posix() for p in lambda_modules()}
    assert {
        "app.py",
        "chalicelib/store/table.py",
        "chalicelib/store/releases.py",
        "chalicelib/store/rotations.py",
        "chalicelib/store/books.py",
        "chalicelib/wiring.py",
        "chalicelib/releases/catalog.py",
    } <= rels
    # Tooling that never ships to Lambda's code paths stays out.
    assert "campaign_tools/cli.py" not in rels
    assert "campaign_tools/serve.py" not in rels


def test_the_scanner_sees_the_calls_the_foundation_is_known_to_make():
    uses, _ = code_uses()
    actions = {u.action for u in uses}
    # Table.get -> get_item; Table.query -> query (pages, the rotation, the ledger); Table.batch_get
    # -> batch_get_item (cold pages, totals); RotationStore.put_rotation and the books' writes -> a
    # transaction of "Put"s and "Update"s built by the door, i.e. PutItem and UpdateItem.
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= actions
    assert any("transaction item 'Put'" in u.where for u in uses)
    assert any("transaction item 'Update'" in u.where for u in uses)
    # Table.batch_write (BatchWriteItem) and Table.delete (DeleteItem) serve only `campaign publish`
    # and its pruning, from the operator's shell.
    assert "dynamodb:BatchWriteItem" not in actions
    assert "dynamodb:DeleteItem" not in actions
    # create_table is not reachable: CreateTable and UpdateTimeToLive never run in Lambda.
    assert "dynamodb:CreateTable" not in actions
    assert "dynamodb:UpdateTimeToLive" not in actions


def test_only_code_the_handlers_can_reach_counts():
    functions = reachable_functions()
    # The handlers' paths: page reads, the rotation's transaction, the books' writes, through the door.
    assert "chalicelib/store/table.py:Table.get" in functions
    assert "chalicelib/store/table.py:Table.transact" in functions
    assert "chalicelib/store/releases.py:ReleaseStore.get_release_with_head" in functions
    assert "chalicelib/store/rotations.py:RotationStore.put_rotation" in functions
    assert "chalicelib/store/books.py:BooksStore.put_refund" in functions
    assert "chalicelib/homepage/job.py:run_rotation" in functions
    # CLI-only paths: publishing, pruning old releases, creating the local table.
    assert "chalicelib/releases/publishing.py:Publisher.publish" not in functions
    assert "chalicelib/store/releases.py:ReleaseStore.delete_release" not in functions
    assert "chalicelib/store/table.py:Table.batch_write" not in functions
    assert "chalicelib/store/table.py:Table.delete" not in functions
    assert "chalicelib/store/table.py:create_table" not in functions


def test_every_dynamodb_call_the_handlers_reach_goes_through_the_door():
    uses, _ = code_uses()
    places = sorted({u.where for u in uses if u.action.startswith("dynamodb:")})
    door = [w for w in places if w.startswith("chalicelib/store/table.py:")]
    assert door
    # Elsewhere only calls of the door's Table.query, which shares the operation's name.
    elsewhere = [w for w in places if w not in door]
    assert all(w.startswith("chalicelib/store/") and w.endswith(" (query)") for w in elsewhere), elsewhere


def test_partiql_calls_need_a_decision():
    _, undecided = code_uses()
    assert undecided == [], (
        f"PartiQL needs dynamodb:PartiQLSelect/Insert/Update/Delete: map it in NOT_IAM_ACTIONS and the policies: {undecided}"
    )


# ------------------------------------------------------------------ the policies


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_deployed_stages_use_the_hand_written_policy(stage):
    assert {"dev", "prod"} <= set(DEPLOYED_STAGES)
    assert CONFIG["stages"][stage]["autogen_policy"] is False
    assert all(path.is_file() for path in policy_files(stage))
    assert not (ROOT / ".chalice" / f"policy-{stage}.json").exists()  # no stage-wide policy: one per function


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_policy_grants_every_action_the_code_uses_on_the_stage_table(stage):
    grants = granted(load_policy(stage))
    uses, _ = code_uses()
    missing = sorted(
        {
            f"{u.action} (used at {u.where})"
            for u in uses
            if u.action.startswith("dynamodb:") and table_arn(stage) not in grants.get(u.action, set())
        }
    )
    assert missing == [], f"the policies of {stage} lack, on {table_arn(stage)}: {missing}"
    missing_ssm = sorted(
        {
            f"{u.action} (used at {u.where})"
            for u in uses
            if u.action.startswith("ssm:") and parameter_arn(stage) not in grants.get(u.action, set())
        }
    )
    assert missing_ssm == [], f"the policies of {stage} lack, on {parameter_arn(stage)}: {missing_ssm}"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_policy_grants_no_dynamodb_action_the_code_does_not_use(stage):
    grants = granted(load_policy(stage))
    uses, _ = code_uses()
    used = {u.action for u in uses}
    extra = sorted(a for a in grants if a.startswith("dynamodb:") and a not in used)
    assert extra == [], f"the policies of {stage} grant DynamoDB actions no Lambda code calls: {extra}"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_policy_resources_are_exactly_the_stage_table_parameter_and_log_groups(stage):
    grants = granted(load_policy(stage))
    for action, resources in grants.items():
        service = action.split(":")[0]
        if service == "dynamodb":
            assert resources == {table_arn(stage)}, (action, resources)
        elif service == "ssm":
            assert resources == {parameter_arn(stage)}, (action, resources)
        elif service == "logs":
            assert resources == {log_groups_arn(stage)}, (action, resources)
        elif service == "xray":
            assert resources == {"*"}, (action, resources)
        else:
            pytest.fail(f"{action}: a service this policy has no business with")


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_policy_reads_the_signing_secret_and_writes_logs_and_traces(stage):
    grants = granted(load_policy(stage))
    # The brief: the signing secret is a SecureString in Parameter Store. With the
    # AWS managed key aws/ssm no kms:Decrypt is needed (its key policy lets every
    # principal of the account decrypt through SSM); see docs/runbook.md.
    assert grants["ssm:GetParameter"] == {parameter_arn(stage)}
    assert not any(a.startswith("kms:") for a in grants)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert action in grants, action
    assert "logs:CreateLogGroup" not in grants  # the stack creates the group
    assert CONFIG["stages"][stage].get("xray") is True
    # Active tracing: Lambda refuses the function unless its role may write segments.
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= set(grants)


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_policy_has_no_wildcard_resource_or_action(stage):
    assert wildcard_problems(load_policy(stage)) == []


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Action": ["dynamodb:GetItem"], "Resource": "*"}, "is not a named ARN"),
        ({"Action": ["dynamodb:GetItem"], "Resource": ["arn:aws:dynamodb:*:*:table/*"]}, "wildcard in resource"),
        (
            {"Action": ["dynamodb:Query"], "Resource": ["arn:aws:dynamodb:*:*:table/campaign-platform-dev/index/*"]},
            "wildcard in resource",
        ),
        ({"Action": ["dynamodb:*"], "Resource": ["arn:aws:dynamodb:*:*:table/campaign-platform-dev"]}, "wildcard action"),
        (
            {"Action": ["ssm:GetParameter*"], "Resource": ["arn:aws:ssm:*:*:parameter/campaign-platform/dev/signing-secret"]},
            "wildcard action",
        ),
        ({"Action": ["ssm:GetParameter"], "Resource": ["arn:aws:ssm:*:*:parameter/campaign-platform/*"]}, "wildcard in resource"),
        ({"Action": "*", "Resource": "*"}, "wildcard action"),
        ({"NotAction": ["iam:*"], "Resource": "*"}, "NotAction"),
    ],
)
def test_the_wildcard_check_catches(statement, problem):
    policy = {"Statement": [{"Sid": "Bad", "Effect": "Allow", **statement}]}
    problems = wildcard_problems(policy)
    assert any(problem in p for p in problems), problems

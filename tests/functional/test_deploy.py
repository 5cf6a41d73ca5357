"""The AWS deployment, proved offline: `osls package` → cfn-lint → deployed into moto's CloudFormation the way
`osls deploy` does it → assertions on what exists, on the template where moto skips a type, on every IAM
statement, and on what the zips carry (importing the bot from its zip + layer alone)."""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.deployer import deploy
from local.deployer.deploy import Packaged
from local.deployer.exclusive import exclusive

pytestmark = [
    pytest.mark.slow,
    # moto's CloudFormation names each type it skips (asserted from the template instead)
    pytest.mark.filterwarnings(
        "ignore:Tried to parse .* by moto's CloudFormation implementation:UserWarning"
    ),
]
STAGE = "ci"
STACK = f"studiobot-{STAGE}"
RENDER_TIMEOUT_S = 900
FUNCTIONS = {
    "bot",
    "notifier",
    "noticeRedrive",
    "links",
    "render",
    "renderDeadLetters",
    "ec2Events",
    "budgetAlerts",
    "expireUnsubmitted",
    "sweep",
    "keepAliveStartDue",
    "keepAliveStopStarted",
    "keepAliveReport",
}
# Actions AWS does not let a policy scope to resources (the only ones allowed `"Resource": "*"`).
# Actions AWS authorizes only on "*" (the Service Authorization Reference lists no resource type for them).
UNSCOPABLE = {
    "ec2:DescribeInstances",
    "ssm:ListCommandInvocations",
    "ssm:DescribeInstanceInformation",
    "ec2:DescribeSpotPriceHistory",
    "ecr:GetAuthorizationToken",
    "lambda:ListEventSourceMappings",  # the priority lanes' scheduler finds the render function's sources
}


@pytest.fixture(scope="module")
def packaged() -> Iterator[Packaged]:
    # `.serverless/` is read by these tests after packaging: no other test process packages meanwhile
    with exclusive(deploy.PACKAGING_LOCK):
        yield deploy.package(STAGE)


@pytest.fixture(scope="module")
def template(packaged: Packaged) -> dict[str, Any]:
    return packaged.template


@pytest.fixture(scope="module")
def deployed(packaged: Packaged) -> Iterator[dict[str, str]]:
    with mock_aws():
        outputs = deploy.deploy_packaged(boto3.client("cloudformation"), boto3.client("s3"), STACK)
        yield outputs


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: item for name, item in template["Resources"].items() if item["Type"] == kind}


def _function(template: dict[str, Any], name: str) -> dict[str, Any]:
    logical = f"{name[0].upper()}{name[1:]}LambdaFunction"
    properties: dict[str, Any] = template["Resources"][logical]["Properties"]
    return properties


def test_the_packaged_template_passes_cfn_lint(packaged: Packaged) -> None:
    # W3005: osls adds an explicit DependsOn on each function's role beside the GetAtt (harmless, generated).
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--ignore-checks",
            "W3005",
            "--",
            str(deploy.TEMPLATE),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_moto_creates_the_queues_topics_table_buckets_roles_and_functions(
    deployed: dict[str, str], template: dict[str, Any]
) -> None:
    sqs = boto3.client("sqs")
    render_url = sqs.get_queue_url(QueueName=f"{STACK}-render")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=render_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{STACK}-render-dlq") and redrive["maxReceiveCount"] == 3
    assert int(attributes["VisibilityTimeout"]) >= 6 * RENDER_TIMEOUT_S

    topics = {topic["TopicArn"].rsplit(":", 1)[-1] for topic in boto3.client("sns").list_topics()["Topics"]}
    assert {f"{STACK}-events", f"{STACK}-budget"} <= topics
    table = boto3.client("dynamodb").describe_table(TableName=f"{STACK}-jobs")["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == [
        "by_channel",
        "by_awaiting",
        "by_outbox",
        "by_month",
        "by_active",
    ]

    s3 = boto3.client("s3")
    for kind in ("scenes", "outputs"):
        bucket = f"{STACK}-{kind}-123456789012"
        # moto's CloudFormation does not apply a bucket's PublicAccessBlockConfiguration: read the template
        properties = template["Resources"][f"{kind.title()}Bucket"]["Properties"]
        block = properties["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # nor its LifecycleConfiguration
    lifecycle = template["Resources"]["OutputsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    previews = next(rule for rule in lifecycle if rule["Id"] == "previews-expire-with-their-links")
    assert previews["Prefix"] == "previews/" and previews["Status"] == "Enabled"
    assert previews["ExpirationInDays"] >= 7  # the presigned links to the zips last 7 days

    lambda_ = boto3.client("lambda")
    functions = {item["FunctionName"]: item for item in lambda_.list_functions()["Functions"]}
    assert set(functions) == {f"{STACK}-{name}" for name in FUNCTIONS}
    roles = {item["Role"] for item in functions.values()}
    assert len(roles) == len(FUNCTIONS), "every function has a role of its own"
    iam_roles = {role["Arn"] for role in boto3.client("iam").list_roles()["Roles"]}
    assert roles <= iam_roles

    render = lambda_.get_function(FunctionName=f"{STACK}-render")
    # moto's CloudFormation keeps no image for a function: the template says which
    assert _function(template, "render")["PackageType"] == "Image"
    assert _function(template, "render")["Code"] == {"ImageUri": deploy.PLACEHOLDER_IMAGE}
    environment = render["Configuration"]["Environment"]["Variables"]
    assert environment["STUDIOBOT_RENDER_QUEUE_URL"] == render_url
    assert environment["STUDIOBOT_TABLE"] == f"{STACK}-jobs"
    # estimates assume the function as deployed, and the guardrails come from the deploy's params
    assert environment["STUDIOBOT_RENDER_MEMORY_MB"] == "10240"
    assert environment["STUDIOBOT_RENDER_CONCURRENCY"] == "100"
    assert (environment["STUDIOBOT_PROBE_OVER_FRAMES"], environment["STUDIOBOT_CONFIRM_OVER_USD"]) == (
        "50",
        "5",
    )
    assert render["Configuration"]["MemorySize"] == 10240
    assert render["Configuration"]["Timeout"] == RENDER_TIMEOUT_S
    assert _function(template, "render")["EphemeralStorage"] == {"Size": 10240}  # moto keeps 512
    for name in FUNCTIONS - {"render"}:
        configuration = functions[f"{STACK}-{name}"]
        assert configuration["Runtime"] == deploy.LAMBDA_RUNTIME
        # moto's CloudFormation drops a function's Layers: the template says which; PyAV only where movies are made
        dailies = [{"Ref": "DailiesLambdaLayer"}] if name in ("notifier", "noticeRedrive") else []
        assert _function(template, name)["Layers"] == [{"Ref": "DependenciesLambdaLayer"}, *dailies]
    assert len(lambda_.list_layers()["Layers"]) == 2  # (moto names them after the logical ids)
    layer = template["Resources"]["DependenciesLambdaLayer"]["Properties"]
    assert layer["LayerName"] == f"{STACK}-dependencies" and layer["CompatibleRuntimes"] == [
        deploy.LAMBDA_RUNTIME
    ]

    mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]
    by_queue = {mapping["EventSourceArn"].rsplit(":", 1)[-1]: mapping for mapping in mappings}
    # the gpu class's lanes have no function: render nodes poll them; their dead letters go to the same handler.
    # The render function has one source per priority lane (urgent, normal, low), each as the normal lane's
    lanes = [f"{STACK}-render-urgent", f"{STACK}-render", f"{STACK}-render-low"]
    assert set(by_queue) == {*lanes, f"{STACK}-render-dlq", f"{STACK}-render-gpu-dlq"}
    for lane in lanes:
        assert by_queue[lane]["FunctionArn"].endswith(f":{STACK}-render") and by_queue[lane]["BatchSize"] == 1
        assert by_queue[lane]["ScalingConfig"]["MaximumConcurrency"] == 100
    assert by_queue[f"{STACK}-render-gpu-dlq"]["FunctionArn"].endswith(f":{STACK}-renderDeadLetters")
    assert by_queue[f"{STACK}-render"]["FunctionArn"].endswith(f":{STACK}-render")
    assert by_queue[f"{STACK}-render"]["BatchSize"] == 1
    assert by_queue[f"{STACK}-render"]["ScalingConfig"]["MaximumConcurrency"] == 100
    assert by_queue[f"{STACK}-render-dlq"]["FunctionArn"].endswith(f":{STACK}-renderDeadLetters")
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    rules = boto3.client("events").list_rules()["Rules"]
    sources = sorted(json.loads(rule["EventPattern"])["source"] for rule in rules if "EventPattern" in rule)
    assert sources == [["aws.batch"], ["aws.ec2"]]  # GPU nodes Batch cancelled; workstations
    assert any(rule.get("ScheduleExpression") == "rate(5 minutes)" for rule in rules)


def test_what_moto_skips_is_declared_in_the_template(template: dict[str, Any]) -> None:
    # the notifier hears every studio event; the budget alerts function hears AWS Budgets
    subscriptions = {
        json.dumps(item["Properties"]["TopicArn"]): item["Properties"]
        for item in _resources(template, "AWS::SNS::Subscription").values()
    }
    assert set(subscriptions) == {json.dumps({"Ref": "EventsTopic"}), json.dumps({"Ref": "BudgetTopic"})}
    for topic, function in (
        ("EventsTopic", "NotifierLambdaFunction"),
        ("BudgetTopic", "BudgetAlertsLambdaFunction"),
    ):
        subscription = subscriptions[json.dumps({"Ref": topic})]
        assert subscription["Protocol"] == "lambda"
        assert subscription["Endpoint"] == {"Fn::GetAtt": [function, "Arn"]}
    invokers = {
        json.dumps(item["Properties"].get("SourceArn")): item["Properties"]["FunctionName"]
        for item in _resources(template, "AWS::Lambda::Permission").values()
        if item["Properties"]["Principal"] == "sns.amazonaws.com"
    }
    assert invokers[json.dumps({"Ref": "BudgetTopic"})] == {
        "Fn::GetAtt": ["BudgetAlertsLambdaFunction", "Arn"]
    }
    assert _function(template, "budgetAlerts")["Handler"] == "entry/budget_alerts.handler"
    # Slack reaches the bot through an HTTP API
    routes = {
        item["Properties"]["RouteKey"] for item in _resources(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {"POST /slack/events", "GET /links/{token}"}  # and the download links it posts
    assert _function(template, "bot")["Timeout"] >= 30  # lazy listeners get time beyond the 3 s ack
    # the keep-alive: the ASL file, started daily by a schedule that names the state machine
    (machine,) = _resources(template, "AWS::StepFunctions::StateMachine").values()
    definition = machine["Properties"]["Definition"]
    on_disk = json.loads((deploy.INFRA / "keepalive.asl.json").read_text())
    assert definition == on_disk
    (schedule,) = _resources(template, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 4 * * ? *)"
    assert schedule["Properties"]["Target"]["Arn"] == {"Ref": "KeepAliveStateMachine"}
    # AWS Budgets tells the budget topic, which only Budgets may publish to
    (budget,) = _resources(template, "AWS::Budgets::Budget").values()
    thresholds = [
        item["Notification"]["Threshold"] for item in budget["Properties"]["NotificationsWithSubscribers"]
    ]
    assert thresholds == [50, 80, 100, 100]
    for item in budget["Properties"]["NotificationsWithSubscribers"]:
        assert item["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": "BudgetTopic"}}]
    (policy,) = _resources(template, "AWS::SNS::TopicPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "budgets.amazonaws.com"}
    # secrets: only parameter names reach the template, never a value
    bot_env = _function(template, "bot")["Environment"]["Variables"]
    assert bot_env["SLACK_BOT_TOKEN_PARAMETER"] == f"/studiobot/{STAGE}/slack-bot-token"
    # the workspace and app the bot answers: deploy params (`make deploy` fills them from SSM), into its environment
    assert {"STUDIOBOT_SLACK_TEAM_ID", "STUDIOBOT_SLACK_APP_ID"} <= set(bot_env)
    text = json.dumps(template)
    assert "xoxb-" not in text and 'SLACK_BOT_TOKEN"' not in text and 'SLACK_SIGNING_SECRET"' not in text


def _statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, role in _resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_statement_grants_every_action_or_every_resource_on_data(template: dict[str, Any]) -> None:
    statements = list(_statements(template))
    assert len(statements) > 30
    for role, statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        for action in actions:
            assert "*" not in action, f"{role}: {action}"
        resources = _as_list(statement["Resource"])
        if "*" in resources:
            assert set(actions) <= UNSCOPABLE, f"{role} grants {actions} on every resource"


def test_each_role_reaches_only_its_own_function_and_data_by_prefix(template: dict[str, Any]) -> None:
    by_role: dict[str, list[dict[str, Any]]] = {}
    for role, statement in _statements(template):
        by_role.setdefault(role, []).append(statement)
    for name in FUNCTIONS:
        role = _function(template, name)["Role"]["Fn::GetAtt"][0]
        logs = next(item for item in by_role[role] if item.get("Sid") == "OwnLogs")
        assert f"/aws/lambda/{STACK}-{name}:*" in json.dumps(logs["Resource"])

    def grants(role: str, action: str) -> list[str]:
        return [
            json.dumps(resource)
            for statement in by_role[role]
            if action in _as_list(statement["Action"])
            for resource in _as_list(statement["Resource"])
        ]

    # lazy listeners: the bot may invoke itself and nothing else
    own = f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{STACK}-bot"
    assert grants("BotRole", "lambda:InvokeFunction") == [
        json.dumps({"Fn::Sub": own}),
        json.dumps({"Fn::Sub": f"{own}:*"}),
    ]
    # the render function reads scenes under the scenes prefix and writes frames under outputs/; tiles wait under
    # tiles/ for their frame's stitch (written, read, deleted); nothing else
    tiles = json.dumps({"Fn::Sub": "${OutputsBucket.Arn}/tiles/*"})
    assert sorted(grants("RenderRole", "s3:GetObject")) == sorted(
        [json.dumps({"Fn::Sub": "${ScenesBucket.Arn}/scenes/*"}), tiles]
    )
    assert sorted(grants("RenderRole", "s3:PutObject")) == sorted(
        [json.dumps({"Fn::Sub": "${OutputsBucket.Arn}/outputs/*"}), tiles]
    )
    assert grants("RenderRole", "s3:DeleteObject") == [tiles]
    # after the probes the render function queues the rest (on the job's class's lane), and so does the
    # dead-letter function when it resumes
    lanes = ("Urgent", "", "Low")
    queues = [f"Render{lane}Queue" for lane in lanes] + [f"GpuRender{lane}Queue" for lane in lanes]
    assert (
        grants("RenderRole", "sqs:SendMessage")
        == grants("RenderDeadLettersRole", "sqs:SendMessage")
        == [json.dumps({"Fn::GetAtt": [queue, "Arn"]}) for queue in queues]
    )
    # where a fan-out or the renders' sweep runs, the render function's event sources only may be switched
    mappings = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*"
    switchers = {
        role
        for role, s in _statements(template)
        if "lambda:UpdateEventSourceMapping" in _as_list(s["Action"])
    }
    assert switchers == {"BotRole", "RenderRole", "RenderDeadLettersRole", "ExpireUnsubmittedRole"}
    for role in switchers:
        assert grants(role, "lambda:UpdateEventSourceMapping") == [json.dumps({"Fn::Sub": mappings})]
    # the functions that open scenes or post to Slack reach job items (the notifier also its cards' own items,
    # `bot.cards`, and the Home tabs', `bot.home_refresh`), never the budget guard's item
    for role in ("RenderRole", "RenderDeadLettersRole", "NotifierRole"):
        reachable = (["JOB#*"], ["CARD#*"], ["HOME#*"]) if role == "NotifierRole" else (["JOB#*"],)
        for statement in by_role[role]:
            if "dynamodb:PutItem" in _as_list(statement["Action"]) or "dynamodb:UpdateItem" in _as_list(
                statement["Action"]
            ):
                assert statement["Condition"] in [
                    {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys}} for keys in reachable
                ]
    # only the bot and the notifier (and its redrive) may read the Slack secrets; workstation jobs only touch leases
    readers = {
        role
        for role, statement in _statements(template)
        if "ssm:GetParameter" in _as_list(statement["Action"])
    }
    assert readers == {"BotRole", "NotifierRole", "NoticeRedriveRole", "LinksRole"}  # Links: its key alone
    for role in ("SweepRole", "Ec2EventsRole", "KeepAliveStartDueRole"):
        (leases,) = [
            item for item in by_role[role] if any(a.startswith("dynamodb:") for a in _as_list(item["Action"]))
        ]
        assert leases["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["LEASES"]}}
    # the budget alerts function reads and writes the guard's partition, and publishes studio events; by
    # `budgetAction` it finds the month's jobs (the by_month index) and holds or cancels them, job items only
    guard, months, jobs = [
        item
        for item in by_role["BudgetAlertsRole"]
        if any(a.startswith("dynamodb:") for a in _as_list(item["Action"]))
    ]
    assert set(guard["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert guard["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["SETTINGS"]}}
    assert _as_list(months["Action"]) == ["dynamodb:Query"] and "index/by_month" in json.dumps(
        months["Resource"]
    )
    assert set(jobs["Action"]) == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"}
    assert jobs["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["JOB#*"]}}
    assert grants("BudgetAlertsRole", "sns:Publish") == [json.dumps({"Ref": "EventsTopic"})]
    # only the bot reads budgets (for `/budget`), and only budgets of this account
    budget_readers = {
        role
        for role, statement in _statements(template)
        if "budgets:ViewBudget" in _as_list(statement["Action"])
    }
    assert budget_readers == {"BotRole"}
    assert grants("BotRole", "budgets:ViewBudget") == [
        json.dumps({"Fn::Sub": "arn:${AWS::Partition}:budgets::${AWS::AccountId}:budget/*"})
    ]
    # EC2 changes only on instances tagged as studiobot workstations
    for role, statement in _statements(template):
        if {"ec2:StartInstances", "ec2:StopInstances", "ec2:CreateTags"} & set(_as_list(statement["Action"])):
            assert statement["Condition"]["StringLike"] == {"aws:ResourceTag/studiobot:workstation": "*"}, (
                role
            )


def test_the_zips_carry_their_dependencies_but_never_bpy_or_boto3(packaged: Packaged, tmp_path: Path) -> None:
    layer = zipfile.ZipFile(packaged.artifacts["dependencies"])
    bot = zipfile.ZipFile(packaged.artifacts["bot"])
    names = set(layer.namelist()) | set(bot.namelist())
    tops = {name.split("/")[1] for name in layer.namelist() if name.startswith("python/")}
    assert {"slack_bolt", "slack_sdk", "aws_lambda_powertools", "fileseq", "PIL"} <= tops
    assert not {"bpy", "boto3", "botocore", "av"} & tops  # PyAV: the dailies layer's, the notifier's alone
    with zipfile.ZipFile(packaged.artifacts["dailies"]) as dailies:
        assert {name.split("/")[1] for name in dailies.namelist() if name.startswith("python/")} >= {"av"}
    assert not any(name.startswith(("bpy/", "local/", "tests/")) or "__pycache__" in name for name in names)
    assert "entry/slack.py" in bot.namelist() and "backend/render/store/__init__.py" in bot.namelist()
    sweep = zipfile.ZipFile(packaged.artifacts["sweep"]).namelist()
    assert "entry/sweep.py" in sweep and not any(name.startswith("bot/") for name in sweep)
    budget_alerts = zipfile.ZipFile(packaged.artifacts["budgetAlerts"]).namelist()
    assert "entry/budget_alerts.py" in budget_alerts and not any(
        name.startswith("bot/") for name in budget_alerts
    )
    # every zip carries the entry points and their one composition root, but not the render image's two (nor,
    # outside the Slack functions, the three that import the bot)
    for zipped in (set(bot.namelist()), set(sweep), set(budget_alerts)):
        assert {"entry/__init__.py", "entry/wiring.py"} <= zipped
        assert not {"entry/render.py", "entry/node.py"} & zipped
        assert not any(name.startswith("blender_image/") for name in zipped)
    assert {"entry/slack.py", "entry/notifier.py", "entry/redrive.py"} <= set(bot.namelist())
    assert not {"entry/slack.py", "entry/notifier.py", "entry/redrive.py"} & set(sweep)
    entry_points = sorted(
        name.removesuffix(".py").replace("/", ".") for name in bot.namelist() if name.startswith("entry/")
    )

    # Lambda's view: the function's zip at /var/task, the layer at /opt, the runtime's boto3, nothing else.
    task, opt, runtime = tmp_path / "task", tmp_path / "opt", tmp_path / "runtime"
    bot.extractall(task)
    layer.extractall(opt)
    runtime.mkdir()
    import boto3 as runtime_boto3

    site = Path(runtime_boto3.__file__).parents[1]
    for package in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        (runtime / package).symlink_to(site / package)
    # The layer's compiled modules are CPython 3.13's (checked by their wheel tags) and this machine runs 3.11:
    # the probe takes those packages (Pillow) from this machine, every other one from the layer (README "What
    # runs where"). A package with pure-Python fallbacks beside its compiled modules (charset_normalizer) stays.
    for top in sorted((opt / "python").iterdir()):
        compiled = top.is_dir() and any(top.rglob("*.cpython-313-*.so"))
        if compiled and not all(
            path.with_name(path.name.split(".")[0] + ".py").exists() for path in top.rglob("*.so")
        ):
            shutil.rmtree(top)
            top.symlink_to(Path(importlib.import_module(top.name).__file__ or "").parent)
    probe = (
        "import sys, importlib; sys.path[:0] = sys.argv[1:]; import entry.slack, entry.notifier, PIL.Image;"
        f" [importlib.import_module(name) for name in {entry_points!r}];"
        " assert not {'bpy', 'blender_image'} & set(sys.modules); print(entry.slack.app.name)"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "SLACK_"))} | {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-secret",
        "STUDIOBOT_SLACK_TEAM_ID": "T0001",  # pinned, as `make deploy` pins it (else it says so, on stdout)
        "STUDIOBOT_SLACK_APP_ID": "A0STUDIOBOT",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(task), str(opt / "python"), str(runtime)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "studiobot"


# Runtimes Lambda supports with no deprecation announced before 2027-06 (AWS's runtime table, Dec 2026).
SUPPORTED_RUNTIMES = {"python3.13", "python3.14"}


def test_no_function_runs_on_a_deprecated_runtime_and_the_layer_is_built_for_its_own(
    packaged: Packaged,
) -> None:
    runtimes = deploy.function_runtimes(packaged.template)
    assert set(runtimes) == {f"{name[0].upper()}{name[1:]}LambdaFunction" for name in FUNCTIONS}
    # python3.11 was deprecated on 2026-06-30: no function is created on it, none on any other old runtime
    assert "python3.11" not in json.dumps(packaged.template)
    assert set(runtimes.values()) <= SUPPORTED_RUNTIMES | {"image"}
    assert (
        runtimes["RenderLambdaFunction"] == "image"
    )  # its own Python 3.11 for bpy (blender_image/Dockerfile)
    layer = packaged.template["Resources"]["DependenciesLambdaLayer"]["Properties"]
    assert set(layer["CompatibleRuntimes"]) == set(runtimes.values()) - {"image"}
    # every wheel in the layer is for CPython 3.13 on x86_64 Linux, or pure Python
    with zipfile.ZipFile(packaged.artifacts["dependencies"]) as archive:
        wheels = [name for name in archive.namelist() if name.endswith(".dist-info/WHEEL")]
        tags = {
            line.split(":", 1)[1].strip()
            for name in wheels
            for line in archive.read(name).decode().splitlines()
            if line.startswith("Tag:")
        }
    assert len(wheels) == len(deploy.layer_requirements())
    with zipfile.ZipFile(packaged.artifacts["dailies"]) as archive:  # PyAV, for the notifier's python3.13 too
        tags |= {
            line.split(":", 1)[1].strip()
            for name in archive.namelist()
            if name.endswith(".dist-info/WHEEL")
            for line in archive.read(name).decode().splitlines()
            if line.startswith("Tag:")
        }
    assert any(tag.endswith("-abi3-manylinux_2_28_x86_64") for tag in tags)
    for tag in tags:
        python, abi, platform = tag.split("-")
        assert (python, abi) in {
            ("cp313", "cp313"),
            ("cp313", "abi3"),
            ("cp311", "abi3"),  # the stable ABI from 3.11 on (PyAV's): 3.13 loads it
            ("py3", "none"),
            ("py2.py3", "none"),
        } or (python.startswith("py") and abi == "none" and platform == "any"), tag
        assert platform == "any" or platform.endswith("_x86_64"), tag


def test_the_render_queue_hides_a_task_for_six_render_timeouts_whatever_the_param(
    template: dict[str, Any], tmp_path: Path
) -> None:
    # Lambda's SQS event source asks for a visibility timeout of at least 6 × the function's; no more, or a
    # crashed render waits that long before its retry
    def visibility(packaged_template: dict[str, Any]) -> int:
        return int(packaged_template["Resources"]["RenderQueue"]["Properties"]["VisibilityTimeout"])

    assert visibility(template) == 6 * RENDER_TIMEOUT_S
    shorter = deploy.package(STAGE, params=("renderTimeoutS=300",), out=tmp_path / "short").template
    assert shorter["Resources"]["RenderLambdaFunction"]["Properties"]["Timeout"] == 300
    assert visibility(shorter) == 6 * 300


def test_history_expires_and_data_outlives_the_stack(template: dict[str, Any]) -> None:
    # the table deletes a job's items `jobHistoryDays` after they were written (the store writes `purge_at`)
    table = template["Resources"]["JobsTable"]
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "purge_at", "Enabled": True}
    for name in FUNCTIONS:
        assert _function(template, name)["Environment"]["Variables"]["STUDIOBOT_JOB_HISTORY_DAYS"] == "90"
    # `osls remove` (or a replacement) leaves the table and the buckets, with their data, behind
    for name in ("JobsTable", "ScenesBucket", "OutputsBucket"):
        resource = template["Resources"][name]
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == (
            "Retain",
            "Retain",
        ), name
    # a killed upload's parts are aborted in both buckets
    for name in ("ScenesBucket", "OutputsBucket"):
        rules = template["Resources"][name]["Properties"]["LifecycleConfiguration"]["Rules"]
        assert {"Id": "abort-incomplete-uploads", "Status": "Enabled"} | {
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}
        } in rules


def test_the_budget_watches_this_stage_only_by_its_cost_allocation_tag(packaged: Packaged) -> None:
    # every resource the stack makes carries `studiobot:stage` (stack tags propagate), GPU nodes included
    state = json.loads((deploy.PACKAGE_DIR / "serverless-state.json").read_text())
    assert state["service"]["provider"]["stackTags"] == {"studiobot:stage": STAGE}
    nodes = packaged.template["Resources"]["GpuComputeEnvironment"]["Properties"]["ComputeResources"]
    assert nodes["Tags"]["studiobot:stage"] == STAGE
    # the budget counts only what is tagged with this stage (a dev stage's guard never trips on prod's spend)
    (budget,) = _resources(packaged.template, "AWS::Budgets::Budget").values()
    (tag,) = budget["Properties"]["Budget"]["CostFilters"]["TagKeyValue"]
    assert tag == {"Fn::Join": ["$", ["user:studiobot:stage", STAGE]]}  # user:studiobot:stage$ci


def test_the_roles_that_start_workstations_may_let_ec2_use_their_volumes_keys_and_nothing_more(
    template: dict[str, Any],
) -> None:
    # starting an instance whose EBS volume uses a customer-managed key needs kms:CreateGrant (without it the
    # instance goes back to stopped, silently): for EC2 only, a grant for an AWS resource, keys of this account
    starters = {
        role
        for role, statement in _statements(template)
        if "ec2:StartInstances" in _as_list(statement["Action"])
    }
    assert starters == {"BotRole", "KeepAliveStartDueRole"}
    granters = {}
    for role, statement in _statements(template):
        if "kms:CreateGrant" in _as_list(statement["Action"]):
            granters[role] = statement
    assert set(granters) == starters
    for statement in granters.values():
        assert _as_list(statement["Action"]) == ["kms:CreateGrant"]
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"
        }
        assert statement["Condition"] == {
            "Bool": {"kms:GrantIsForAWSResource": "true"},
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "ec2.${AWS::Region}.amazonaws.com"}},
        }


def test_gpu_nodes_left_runnable_are_cancelled_after_30_minutes_and_the_events_function_hears_it(
    template: dict[str, Any],
) -> None:
    queue = template["Resources"]["GpuJobQueue"]["Properties"]
    actions = queue["JobStateTimeLimitActions"]
    assert {item["Reason"] for item in actions} == {
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    }
    for item in actions:
        assert (item["State"], item["MaxTimeSeconds"], item["Action"]) == ("RUNNABLE", 1800, "CANCEL")
    patterns = [
        item["Properties"]["EventPattern"]
        for item in _resources(template, "AWS::Events::Rule").values()
        if "EventPattern" in item["Properties"]
    ]
    (batch,) = [pattern for pattern in patterns if pattern["source"] == ["aws.batch"]]
    assert batch["detail-type"] == ["Batch Job State Change"]
    assert batch["detail"]["status"] == ["FAILED"]
    assert batch["detail"]["jobQueue"] == [{"suffix": f":job-queue/{STACK}-gpu"}]
    rule = next(
        item
        for item in _resources(template, "AWS::Events::Rule").values()
        if item["Properties"].get("EventPattern") == batch
    )
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["Ec2EventsLambdaFunction", "Arn"]}


# Standard modules Python 3.12 and 3.13 removed (PEP 594, PEP 632, `imp`, `asynchat`, `asyncore`, `smtpd`).
REMOVED_BY_313 = {"distutils", "imp", "asynchat", "asyncore", "smtpd", "lib2to3", "aifc", "audioop", "cgi"}
REMOVED_BY_313 |= {"cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib", "ossaudiodev"}
REMOVED_BY_313 |= {"pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib"}


def test_nothing_the_zip_functions_carry_imports_a_module_python_3_13_removed(packaged: Packaged) -> None:
    # This machine has no Python 3.13 to run them on: the cheap check is that our code and the layer's parse and
    # import nothing 3.13 no longer has (README "What runs where, on which Python")
    found: list[str] = []
    for artifact in ("bot", "sweep", "dependencies"):
        with zipfile.ZipFile(packaged.artifacts[artifact]) as archive:
            for name in (item for item in archive.namelist() if item.endswith(".py")):
                for node in ast.walk(ast.parse(archive.read(name), filename=name)):
                    modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                        modules = [node.module]
                    found += [
                        f"{name}: {module}" for module in modules if module.split(".")[0] in REMOVED_BY_313
                    ]
    assert found == []


def test_download_links_are_answered_by_their_own_function_whose_role_reads_only_the_key_and_outputs(
    template: dict[str, Any],
) -> None:
    # GET /links/{token} reaches the links function, not the bot
    (route,) = [
        item["Properties"]
        for item in _resources(template, "AWS::ApiGatewayV2::Route").values()
        if item["Properties"]["RouteKey"] == "GET /links/{token}"
    ]
    integration = template["Resources"][route["Target"]["Fn::Join"][1][1]["Ref"]]["Properties"]
    assert integration["IntegrationUri"] == {"Fn::GetAtt": ["LinksLambdaFunction", "Arn"]}
    links = _function(template, "links")
    assert links["Handler"] == "entry/links.handler"
    key = f"/studiobot/{STAGE}/link-signing-key"
    assert links["Environment"]["Variables"]["STUDIOBOT_LINK_SIGNING_KEY_PARAMETER"] == key
    assert links["Environment"]["Variables"]["STUDIOBOT_LINK_DAYS"] == "7"
    # the functions that post links point them at the HTTP API and sign them with the same key
    for name in ("bot", "notifier", "noticeRedrive"):
        env = _function(template, name)["Environment"]["Variables"]
        assert env["STUDIOBOT_LINK_SIGNING_KEY_PARAMETER"] == key
        assert "${HttpApi}.execute-api." in json.dumps(env["STUDIOBOT_LINKS_URL"])
    # its role: its logs, the key's one parameter, listing and reading the outputs a link may name; nothing else
    statements = [statement for role, statement in _statements(template) if role == "LinksRole"]
    granted = {action: statement for statement in statements for action in _as_list(statement["Action"])}
    assert set(granted) == {"logs:CreateLogStream", "logs:PutLogEvents", "ssm:GetParameter", "s3:ListBucket",
                            "s3:GetObject"}  # fmt: skip
    assert json.dumps(granted["ssm:GetParameter"]["Resource"]).endswith(f'parameter{key}"}}')
    assert [json.dumps(item) for item in _as_list(granted["s3:GetObject"]["Resource"])] == [
        json.dumps({"Fn::Sub": f"${{OutputsBucket.Arn}}/{folder}/*"}) for folder in ("outputs", "previews")
    ]
    assert granted["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["outputs/*", "previews/*"]}}
    # the key's readers: the functions that make links and the one that checks them
    readers = {
        role
        for role, statement in _statements(template)
        if "ssm:GetParameter" in _as_list(statement["Action"]) and key in json.dumps(statement["Resource"])
    }
    assert readers == {"BotRole", "NotifierRole", "NoticeRedriveRole", "LinksRole"}

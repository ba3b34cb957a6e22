"""Cost-allocation tags reach what AWS Batch launches; the monthly budget filters by the prefix tag and mails the address."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from mmbatch_cdk.cost import BUDGET_USD_RANGE, PREFIX_TAG, MonthlyBudget, apply_cost_tags, tag_problem, tags_problem

from .observability_app import USER_TAGS, Built, shared

EXPECTED = {PREFIX_TAG: "mmbatch", **USER_TAGS}


@pytest.fixture(scope="module")
def built() -> Built:
    return shared()


def as_dict(tags: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags}


def node_launch_template(built: Built) -> dict[str, Any]:
    logical_id = built.stack.get_logical_id(built.compute.launch_template.node.default_child)  # type: ignore[arg-type]
    return built.template["Resources"][logical_id]["Properties"]


def test_launch_template_tags_the_instances_and_volumes_batch_launches(built: Built) -> None:
    specs = {s["ResourceType"]: as_dict(s["Tags"]) for s in node_launch_template(built)["LaunchTemplateData"]["TagSpecifications"]}
    assert set(specs) == {"instance", "volume"}
    for resource_type, tags in specs.items():
        assert EXPECTED.items() <= tags.items(), resource_type


def test_compute_environment_tags_its_instances_and_itself_with_the_prefix_only(built: Built) -> None:
    [environment] = built.resources("AWS::Batch::ComputeEnvironment").values()
    # With the tags a queue carries itself (its deployment, from its wiring).
    assert EXPECTED.items() <= environment["Properties"]["ComputeResources"]["Tags"].items()
    # Its own Tags are create-only: a change of the user's tags must not replace it (and end its jobs).
    assert environment["Properties"]["Tags"] == {PREFIX_TAG: "mmbatch"}


def test_the_compute_environments_own_tags_are_create_only_in_cloudformations_schema() -> None:
    spec = importlib.util.find_spec("cfnlint")  # located, not imported
    assert spec is not None and spec.origin is not None
    data = Path(spec.origin).parent / "data" / "schemas"
    digest = json.loads((data / "providers" / "us-east-1.json").read_text())["AWS::Batch::ComputeEnvironment"]
    schema = json.loads((data / "resources" / f"{digest}.json").read_text())
    assert "/properties/Tags" in schema["createOnlyProperties"]
    assert "/properties/ComputeResources/Tags" in schema["conditionalCreateOnlyProperties"]


@pytest.mark.parametrize("type_", ["AWS::Batch::JobQueue", "AWS::EFS::FileSystem", "AWS::EC2::Instance", "AWS::Logs::LogGroup",
                                   "AWS::SNS::Topic", "AWS::KMS::Key", "AWS::CloudWatch::Alarm", "AWS::Events::Rule"])
def test_every_taggable_resource_carries_the_tags(built: Built, type_: str) -> None:
    resources = built.resources(type_)
    assert resources
    for logical_id, resource in resources.items():
        tags = resource["Properties"]["FileSystemTags" if type_ == "AWS::EFS::FileSystem" else "Tags"]
        assert EXPECTED.items() <= (tags.items() if isinstance(tags, dict) else as_dict(tags).items()), logical_id


def test_budget_is_monthly_cost_filtered_by_the_prefix_tag_and_mails_at_80_actual_and_100_forecast(built: Built) -> None:
    built.assertions.has_resource_properties("AWS::Budgets::Budget", {
        "Budget": {
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
            "BudgetLimit": {"Amount": 500, "Unit": "USD"},
            "CostFilters": {"TagKeyValue": ["user:mmbatch:prefix$mmbatch"]},
        },
        "NotificationsWithSubscribers": [
            {"Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80,
                              "ThresholdType": "PERCENTAGE"},
             "Subscribers": [{"Address": "ops@example.com", "SubscriptionType": "EMAIL"}]},
            {"Notification": {"NotificationType": "FORECASTED", "ComparisonOperator": "GREATER_THAN", "Threshold": 100,
                              "ThresholdType": "PERCENTAGE"},
             "Subscribers": [{"Address": "ops@example.com", "SubscriptionType": "EMAIL"}]},
        ],
    })


@pytest.mark.parametrize("tags, message", [
    ({"aws:owner": "x"}, "tag key 'aws:owner'"),
    ({"": "x"}, "tag key ''"),
    ({"k" * 129: "x"}, "tag key"),
    ({"team": "a,b"}, "tag 'team': value 'a,b'"),
    ({"team": "v" * 257}, "tag 'team': value"),
])
def test_tags_aws_would_reject_are_rejected_by_name(tags: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_cost_tags(cdk.Stack(cdk.App(), "S"), "mmbatch", tags)


def test_tags_at_aws_s_length_limits_are_accepted() -> None:
    """128 characters of key and 256 of value are AWS's limits, not past them."""
    assert tag_problem("k" * 128, "v" * 256) is None
    assert tags_problem({"k" * 128: "v" * 256}) is None


def test_a_tag_key_starting_with_aws_in_any_case_is_refused() -> None:
    """AWS reserves the prefix in every case ("aws:, AWS:, or any upper or lowercase combination", AWS's tagging
    guide, as cost.py cites): a key such as AWS:owner would fail the deploy, so it is refused before synthesis."""
    for key in ("AWS:owner", "Aws:owner"):
        assert (tag_problem(key, "x") or "").startswith(f"tag key {key!r} is not accepted")


def test_a_bad_prefix_is_rejected_as_a_tag_value() -> None:
    with pytest.raises(ValueError, match="tag 'mmbatch:prefix'"):
        apply_cost_tags(cdk.Stack(cdk.App(), "S"), "bad,prefix")


@pytest.mark.parametrize("amount", [0, -1, 0.009, 1.5e20, float("inf"), float("nan")])
def test_a_budget_amount_outside_a_cent_to_1e20_is_refused_by_name(amount: float) -> None:
    with pytest.raises(ValueError, match=r"^MonthlyBudget: amount_usd must be from 0\.01 to 1e\+20, got "):
        MonthlyBudget(cdk.Stack(cdk.App(), "S"), "B", prefix="p", amount_usd=amount, email="ops@example.com")


def test_budget_amounts_from_a_cent_to_1e20_reach_the_template_as_the_budgets_api_pattern_takes_them(tmp_path: Path) -> None:
    """The CDK's own JSON writer, not ours: it puts 1e21 and up, and below 1e-6, in exponent form, which Spend.Amount's
    pattern refuses (AWS Billing and Cost Management API Reference, "Spend")."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "S")
    amounts = [BUDGET_USD_RANGE[0], 12.345, BUDGET_USD_RANGE[1]]
    for n, amount in enumerate(amounts):
        MonthlyBudget(stack, f"B{n}", prefix="p", amount_usd=amount, email="ops@example.com")
    app.synth()
    written = re.findall(r'"Amount":\s*([^,}\s]+)', (tmp_path / "S.template.json").read_text())
    assert written == ["0.01", "12.345", "100000000000000000000"]
    assert all(re.fullmatch(r"([0-9]*\.)?[0-9]+", amount) for amount in written)


def test_budget_thresholds_are_props() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    MonthlyBudget(stack, "B", prefix="p", amount_usd=50.5, email="a@example.com", actual_percent=50, forecast_percent=90)
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties("AWS::Budgets::Budget", {
        "Budget": {"BudgetLimit": {"Amount": 50.5}, "CostFilters": {"TagKeyValue": ["user:mmbatch:prefix$p"]}},
        "NotificationsWithSubscribers": [{"Notification": {"Threshold": 50}}, {"Notification": {"Threshold": 90}}],
    })

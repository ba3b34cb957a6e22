"""Cost attribution: cost-allocation tags on every resource (and what AWS Batch launches), and an optional monthly budget.

Tags: ``cdk.Tags`` reaches the launch template's ``TagSpecifications`` for instances and volumes (aws-cdk-lib's
``ec2.LaunchTemplate``) and the compute environment's ``ComputeResources.Tags``, which AWS Batch applies to
the instances it launches. A compute environment's own ``Tags`` are create-only (CloudFormation's resource
schema for AWS::Batch::ComputeEnvironment, as shipped with cfn-lint): changing them replaces the
environment and ends its running jobs. So the user's tags go to its instances only; only the prefix,
which names the deployment and does not change, tags the environment itself. Tags must be activated as cost allocation tags in the Billing console before
Cost Explorer and Budgets can use them: https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html
Budget tag filters take ``user:<key>$<value>``:
https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create-filters.html
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from constructs import Construct, IConstruct

from .management_server import DEPLOYMENT_TAG_KEY
from .multi_queue import QUEUE_TAG

__all__ = ["apply_cost_tags", "MAX_USER_TAGS", "MonthlyBudget", "OWN_TAG_KEYS", "PREFIX_TAG", "tag_problem", "tags_problem"]

PREFIX_TAG = "mmbatch:prefix"
"""The tag every resource of a deployment carries, with the deployment's prefix as value."""

# Tag keys and values: up to 128 and 256 Unicode characters of letters, digits, spaces and _ . : / = + - @;
# keys may not start with aws: (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")
_TAGS_PER_RESOURCE = 50
"""AWS's limit of tags on one resource ("Maximum number of tags per resource - 50", aws:-prefixed tags aside:
https://docs.aws.amazon.com/batch/latest/userguide/tag-restrictions.html, and the same on EC2's and the tag editor's pages)."""
_OWN_TAGS = 4
"""The most tags a resource of this app carries before the user's: mmbatch:prefix and, on a new VPC's subnets, CDK's
Name, aws-cdk:subnet-name and aws-cdk:subnet-type (tests/settings/test_bad_values.py counts them in the templates)."""
MAX_USER_TAGS = _TAGS_PER_RESOURCE - _OWN_TAGS
"""How many tags the user may add: AWS's 50 per resource, less the app's own."""
TAGS_ACCEPTED = (f"at most {MAX_USER_TAGS} tags (AWS allows {_TAGS_PER_RESOURCE} per resource, and mmbatch-cdk uses up to "
                 f"{_OWN_TAGS})")


def tag_problem(key: object, value: object) -> Optional[str]:
    """What AWS would reject in one tag, naming it, or None: the one rule for the ``tags`` setting and the constructs."""
    if not isinstance(key, str) or not key or len(key) > 128 or key.lower().startswith("aws:") or not _TAG_TEXT.match(key):
        return (f"tag key {key!r} is not accepted; expected 1-128 letters, digits, spaces or _ . : / = + - @, not starting "
                "with aws:")
    if not isinstance(value, str) or len(value) > 256 or not _TAG_TEXT.match(value):
        return f"tag {key!r}: value {value!r} is not accepted; expected 0-256 letters, digits, spaces or _ . : / = + - @"
    return None


OWN_TAG_KEYS = (PREFIX_TAG, DEPLOYMENT_TAG_KEY, QUEUE_TAG)
"""The tag keys the app sets itself: the budget filters on the first, the drill's and the scoped permissions' conditions
match the other two. A user tag of the same key would replace the app's on every resource it reaches."""


def tags_problem(tags: Mapping[str, str]) -> Optional[str]:
    """What would be rejected in a set of user tags, naming it, or None: too many, a tag AWS refuses, a key of the
    app's own, or two keys that differ only in case (IAM compares tag keys case-insensitively and refuses such a pair
    on a role: "Duplicate tag keys found. Please note that Tag keys are case insensitive", aws/aws-cdk#26253)."""
    if len(tags) > MAX_USER_TAGS:
        return f"{len(tags)} tags given; expected {TAGS_ACCEPTED}"
    seen: dict[str, str] = {}
    for key, value in tags.items():
        problem = tag_problem(key, value)
        if problem:
            return problem
        own = next((k for k in OWN_TAG_KEYS if k.lower() == key.lower()), None)
        if own is not None:
            return f"tag key {key!r} is mmbatch-cdk's own ({own}, set by the app); choose another key"
        if key.lower() in seen:
            return (f"tag keys {seen[key.lower()]!r} and {key!r} differ only in case; IAM takes them for one key and refuses "
                    "both on a role: give one")
        seen[key.lower()] = key
    return None


def apply_cost_tags(scope: IConstruct, prefix: str, tags: Optional[Mapping[str, str]] = None) -> None:
    """Tag every resource under ``scope`` with ``mmbatch:prefix=<prefix>`` and each of ``tags``.

    A compute environment carries ``tags`` on the instances it launches (``ComputeResources.Tags``, which an
    infrastructure update changes in place), not on itself (create-only). Call it once the compute
    environments exist. Raises ValueError naming the problem (:func:`tags_problem`): a key or value AWS does not
    accept, too many tags, a key of the app's own, or two keys that differ only in case.
    """
    problem = tag_problem(PREFIX_TAG, prefix) or tags_problem(tags or {})
    if problem:
        raise ValueError(f"tags: {problem}")
    cdk.Tags.of(scope).add(PREFIX_TAG, prefix)
    for key, value in (tags or {}).items():
        cdk.Tags.of(scope).add(key, value, exclude_resource_types=["AWS::Batch::ComputeEnvironment"])
    if tags:
        from .compute import BatchCompute  # a queue merges these with its own instance tags

        for construct in scope.node.find_all():
            if isinstance(construct, BatchCompute):
                construct.tag_instances({PREFIX_TAG: prefix, **tags})


BUDGET_USD_RANGE = (0.01, 1e20)
"""A monthly budget's least and greatest amount in US dollars: a cent, and below 1e21, from where JSON writers (the
CDK's among them) put a number in exponent form, which the Budgets API's ``Spend.Amount`` pattern,
``([0-9]*\\.)?[0-9]+``, refuses (AWS Billing and Cost Management API Reference, "Spend"); a cent also keeps it above
1e-6, below which they do the same."""


class MonthlyBudget(Construct):
    """An AWS Budget of the deployment's monthly cost, by its ``mmbatch:prefix`` cost allocation tag.

    Emails ``email`` when actual cost passes ``actual_percent`` of the amount and when the forecast
    passes ``forecast_percent``. The tag filter counts nothing until ``mmbatch:prefix`` is activated as a
    cost allocation tag in the Billing console (and only costs incurred after that).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        amount_usd: float,
        email: str,
        actual_percent: float = 80,
        forecast_percent: float = 100,
    ) -> None:
        """
        :param prefix: the deployment's prefix (the value of its ``mmbatch:prefix`` tag).
        :param amount_usd: the monthly budget in US dollars.
        :param email: who is told.
        :param actual_percent: notify when actual cost exceeds this share of the amount. Default: 80.
        :param forecast_percent: notify when forecast cost exceeds this share of the amount. Default: 100.
        """
        super().__init__(scope, id)
        if not BUDGET_USD_RANGE[0] <= amount_usd <= BUDGET_USD_RANGE[1]:
            raise ValueError(f"MonthlyBudget: amount_usd must be from {BUDGET_USD_RANGE[0]:g} to {BUDGET_USD_RANGE[1]:g}, "
                             f"got {amount_usd}")
        subscribers = [budgets.CfnBudget.SubscriberProperty(address=email, subscription_type="EMAIL")]
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=amount_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:{PREFIX_TAG}${prefix}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind, comparison_operator="GREATER_THAN", threshold=percent, threshold_type="PERCENTAGE"
                    ),
                    subscribers=subscribers,
                )
                for kind, percent in (("ACTUAL", actual_percent), ("FORECASTED", forecast_percent))
            ],
        )
        """The budget (COST, MONTHLY, USD)."""

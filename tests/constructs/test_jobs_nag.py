"""cdk-nag's AwsSolutions pack and cfn-lint over a small app holding the job, smoke-test, engine and drill constructs."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from mmbatch_cdk import CheckpointedJobDefinition
from mmbatch_cdk.drill import SpotInterruptionDrill
from mmbatch_cdk.engines import engine_configs
from mmbatch_cdk.nag import add_nag
from mmbatch_cdk.quickstart import QueueQuickstart
from mmbatch_cdk.smoke_test import SmokeTestJobDefinition

from ..lint import cfn_lint
from .jobs_fixture import build_parts


def test_no_cdk_nag_findings(tmp_path: Path) -> None:
    parts = build_parts(outdir=str(tmp_path))
    add_nag(parts.app)
    stack = parts.stack
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    CheckpointedJobDefinition(stack, "Job", compute=parts.compute, image="public.ecr.aws/docker/library/python:3.12-slim",
                              cpu=2, memory_mib=4096, checkpoint_mode="iterative", job_role=role)
    smoke = SmokeTestJobDefinition(stack, "Smoke", compute=parts.compute)
    drill = SpotInterruptionDrill(stack, "Drill", tag_key="mmbatch:queue", tag_value="default")
    configs = engine_configs(parts.compute)
    for name, value in (("Nextflow", configs.nextflow), ("Miniwdl", configs.miniwdl), ("Cromwell", configs.cromwell),
                        ("SmokeSubmit", smoke.submit_command()), ("DrillStart", drill.start_command())):
        cdk.CfnOutput(stack, name, value=value)
    QueueQuickstart(stack, "Quickstart", compute=parts.compute, name="Jq1", drill=True)
    assembly = parts.app.synth()  # a finding would raise ValidationFailed here
    report_path = tmp_path / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {"pluginReports": []}
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]] == []
    # The drill's two acknowledgements sit on its policy alone.
    policy = drill.role.node.find_child("DefaultPolicy")
    acknowledged = [e.data for e in policy.node.metadata if e.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY]
    assert acknowledged and all(len(reason) > 60 for entry in acknowledged for reason in entry.values())

    # cfn-lint, as tests/stacks/test_cfn_lint.py runs it on the product's templates.
    template_path = Path(assembly.directory) / assembly.get_stack_by_name(stack.stack_name).template_file
    assert cfn_lint(template_path) == []

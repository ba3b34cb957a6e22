"""From cdk deploy to a first checkpointed run: each queue's smoke test, engine configurations and drill in the
composed stacks (the constructs themselves are tested in tests/constructs)."""

from __future__ import annotations

import json

import pytest

from mmbatch_cdk.quickstart import DRILL_TAG_KEY

from ..templates import Synth, shell_parts, user_data_document


def _outputs(s: Synth, prefix: str) -> dict[str, str]:
    return {k: json.dumps(v["Value"]) for k, v in s.template["Outputs"].items() if k.startswith(prefix)}


def test_every_queue_gets_a_smoke_test_command_and_its_own_engine_configurations(synth) -> None:
    s = synth("efs-multiqueue")
    commands = _outputs(s, "SmokeTestSubmitCommand")
    assert sorted(commands) == ["SmokeTestSubmitCommandJq1", "SmokeTestSubmitCommandJq2", "SmokeTestSubmitCommandJq3"]
    queues = {k: v["Properties"]["Priority"] for k, v in s.node_resources("AWS::Batch::JobQueue").items()}
    for name in ("Jq1", "Jq2", "Jq3"):
        queue = next(k for k in queues if k.startswith(f"Queues{name}"))
        assert f'"{queue}"' in commands[f"SmokeTestSubmitCommand{name}"]
        parameters = [p["Properties"] for p in s.resources("AWS::SSM::Parameter").values()
                      if p["Properties"]["Name"].startswith(f"/mmbatch-efs/{name}/")]
        assert sorted(p["Name"].rsplit("/", 1)[1] for p in parameters) == ["cromwell-options.json", "cromwell.conf",
                                                                            "miniwdl.cfg", "nextflow.config"]
        for parameter in parameters:
            if parameter["Name"].endswith("/cromwell-options.json"):
                continue  # names the task role, which every queue shares, and no queue
            assert queue in json.dumps(parameter["Value"]), (name, parameter["Name"])
            others = [k for k in queues if not k.startswith(f"Queues{name}")]
            assert not any(other in json.dumps(parameter["Value"]) for other in others)


def test_the_drill_is_off_by_default_and_one_template_per_queue_when_on(synth) -> None:
    assert synth("efs").resources("AWS::FIS::ExperimentTemplate") == {}
    templates = synth("efs-multiqueue").resources("AWS::FIS::ExperimentTemplate")
    assert len(templates) == 3
    tags = sorted(t["Properties"]["Targets"][next(iter(t["Properties"]["Targets"]))]["ResourceTags"]["mmbatch:queue"]
                  for t in templates.values())
    assert tags == ["Jq1", "Jq2", "Jq3"]
    environments = synth("efs-multiqueue").node_resources("AWS::Batch::ComputeEnvironment").values()
    assert sorted(ce["Properties"]["ComputeResources"]["Tags"]["mmbatch:queue"] for ce in environments) == ["Jq1", "Jq2", "Jq3"]


def test_the_single_queues_nodes_carry_the_queue_tag_its_drill_selects(synth) -> None:
    """The single queue's drill selects running Spot instances tagged mmbatch:queue=default (quickstart.py); nodes
    launched without that tag leave the experiment with no target, so the drill fails instead of interrupting one."""
    tags = synth("efs").node_one("AWS::Batch::ComputeEnvironment")["Properties"]["ComputeResources"]["Tags"]
    assert tags[DRILL_TAG_KEY] == "default"


def test_the_drill_targets_and_may_interrupt_only_this_stacks_nodes(synth) -> None:
    # Every deployment's queue tag values repeat (default, Jq1...); the stack tag, which the nodes carry, does not.
    s = synth("efs-multiqueue")
    stack_tags = {ce["Properties"]["ComputeResources"]["Tags"]["mmbatch-stack"]
                  for ce in s.node_resources("AWS::Batch::ComputeEnvironment").values()}
    assert len(stack_tags) == 1
    (stack_tag,) = stack_tags
    for template in s.resources("AWS::FIS::ExperimentTemplate").values():
        (target,) = template["Properties"]["Targets"].values()
        assert target["ResourceTags"]["mmbatch-stack"] == stack_tag
    interrupts = [st for p in s.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
                  if st["Action"] == "ec2:SendSpotInstanceInterruptions"]
    assert len(interrupts) == 3
    assert all(st["Condition"]["StringEquals"]["aws:ResourceTag/mmbatch-stack"] == stack_tag for st in interrupts)


def test_nextflow_names_the_cli_only_when_nodes_install_one(synth) -> None:
    def nextflow(s: Synth) -> str:
        return json.dumps(next(p["Properties"]["Value"] for p in s.resources("AWS::SSM::Parameter").values()
                               if p["Properties"]["Name"].endswith("nextflow.config")))

    assert "cliPath = '/usr/local/aws-cli/bin/aws'" in nextflow(synth("efs"))
    assert "cliPath = '/usr/local/aws-cli/bin/aws'" in nextflow(synth("juicefs-existing-vpc"))
    no_cli = nextflow(synth("efs-compliance"))  # awsCli=false
    assert "cliPath = " not in no_cli and "the nodes carry no AWS CLI" in no_cli


def test_nodes_install_the_verified_cli_from_s3_last(synth) -> None:
    s = synth("juicefs-existing-vpc")
    lt = s.node_launch_template()[1]
    parts = shell_parts(user_data_document(lt["Properties"]["LaunchTemplateData"]["UserData"]))
    assert s.steps(parts) == ["cloudwatch-agent", "juicefs-mount", "node-bootstrap", "aws-cli"]
    assert "export AWS_CLI_SOURCE='s3://example-artifacts/awscli/awscli-exe-linux-{arch}-2.22.0.zip'" in parts[3]
    statement = next(st for p in s.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
                     if st.get("Sid") == "ReadAwsCliInstaller")
    assert statement["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                        ":s3:::example-artifacts/awscli/awscli-exe-linux-*-2.22.0.zip"]]}


@pytest.mark.parametrize("name", ["efs", "juicefs-multiqueue"])
def test_every_job_queue_cancels_jobs_stuck_runnable_and_counts_its_failures(synth, name: str) -> None:
    # The head queue included: a head job stuck RUNNABLE (no Fargate capacity) must not wait forever, and a failed
    # head job (a failed pipeline) must reach the failed-job alarm like any task.
    s = synth(name)
    queues = s.resources("AWS::Batch::JobQueue")
    assert any(k.startswith("HeadQueue") for k in queues)
    assert [k for k, q in queues.items() if not q["Properties"].get("JobStateTimeLimitActions")] == []
    failed_rules = [r["Properties"]["EventPattern"] for r in s.resources("AWS::Events::Rule").values()
                    if r["Properties"]["EventPattern"].get("source") == ["aws.batch"]]
    for pattern in failed_rules:
        assert sorted(q["Fn::GetAtt"][0] for q in pattern["detail"]["jobQueue"]) == sorted(queues)

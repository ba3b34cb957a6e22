"""The EFS deployment: the security and sizing properties that matter, stated one by one."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

from mmbatch_cdk.config import DEFAULT_INSTANCE_TYPES
from mmbatch_cdk.network import Network

from ..conftest import CONFIGS, synthesize
from ..templates import Synth, shell_parts, user_data_document


@pytest.fixture(scope="module")
def efs(synth) -> Synth:
    return synth("efs")


@pytest.fixture(scope="module")
def existing(synth) -> Synth:
    return synth("efs-existing-vpc")


# ------------------------------------------------------------------ network


def test_new_vpc_spans_two_azs_with_public_subnets_and_no_nat(efs: Synth) -> None:
    efs.assertions.resource_count_is("AWS::EC2::VPC", 1)
    efs.assertions.resource_count_is("AWS::EC2::Subnet", 2)
    efs.assertions.resource_count_is("AWS::EC2::NatGateway", 0)
    efs.assertions.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "ServiceName": Match.object_like({})}
    )
    efs.assertions.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "REJECT"})
    # Rejected-traffic records outlive the stack, like every other log group (but not a failed first create).
    for log_group in efs.resources("AWS::Logs::LogGroup").values():
        assert log_group["DeletionPolicy"] == "RetainExceptOnCreate" and log_group["UpdateReplacePolicy"] == "Retain"


def test_private_only_adds_one_nat_gateway_and_no_public_ip(tmp_path) -> None:
    s = synthesize({"privateOnly": "true"}, tmp_path)
    s.assertions.resource_count_is("AWS::EC2::NatGateway", 1)
    instance = s.one("AWS::EC2::Instance")["Properties"]
    # Private subnets of a new VPC assign no public IP; the instance names its subnet directly (no network
    # interface override, which HIPAA/NIST's EC2InstancesInVPC would misread as "not in a VPC").
    assert "NetworkInterfaces" not in instance and "Private" in instance["SubnetId"]["Ref"]
    subnets = s.node_one("AWS::Batch::ComputeEnvironment")["Properties"]["ComputeResources"]["Subnets"]
    assert all("Private" in ref["Ref"] for ref in subnets)
    # Nothing boots before the route out through the NAT gateway exists (F9): nodes, and the server that downloads MMAB.
    routes = {k for k, r in s.resources("AWS::EC2::Route").items() if "NatGatewayId" in r["Properties"]}
    assert routes and routes <= set(s.node_one("AWS::Batch::ComputeEnvironment").get("DependsOn", []))
    assert routes <= set(s.one("AWS::EC2::Instance").get("DependsOn", []))


def _private_only_network() -> tuple[cdk.Stack, Network]:
    stack = cdk.Stack(cdk.App(), "Net")
    return stack, Network(stack, "Network", private_only=True)


def test_private_only_routes_s3_through_the_gateway_endpoint_not_the_nat_gateway() -> None:
    """Checkpoints, JuiceFS blocks and images go to S3: through the NAT gateway each GB is billed as NAT data
    processing, through the gateway endpoint it is free. The private subnets' route tables are the ones that count."""
    stack, network = _private_only_network()
    endpoint = network.vpc.node.find_child("S3").node.default_child
    assert stack.resolve(endpoint.service_name) == {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}
    private_tables = [stack.resolve(s.route_table.route_table_id) for s in network.vpc.private_subnets]
    assert len(private_tables) == 2
    assert all(table in stack.resolve(endpoint.route_table_ids) for table in private_tables)


def test_private_only_subnets_leave_room_for_thousands_of_nodes() -> None:
    """Every node, head job and EFS mount target takes an address of its zone's private subnet: a /18 each
    (16,379 usable) while the public subnets, holding only the NAT gateway then, are /20."""
    stack, network = _private_only_network()
    assert [stack.resolve(s.ipv4_cidr_block) for s in network.vpc.private_subnets] == ["10.64.64.0/18", "10.64.128.0/18"]
    assert [stack.resolve(s.ipv4_cidr_block) for s in network.vpc.public_subnets] == ["10.64.0.0/20", "10.64.16.0/20"]


def test_existing_vpc_creates_no_network_resources(existing: Synth) -> None:
    for type_ in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::InternetGateway", "AWS::EC2::NatGateway",
                  "AWS::EC2::RouteTable", "AWS::EC2::VPCEndpoint", "AWS::EC2::FlowLog"):
        existing.assertions.resource_count_is(type_, 0)
    compute = existing.node_one("AWS::Batch::ComputeEnvironment")["Properties"]["ComputeResources"]
    assert compute["Subnets"] == CONFIGS["efs-existing-vpc"]["subnetIds"].split(",")
    assert "sg-0a1b2c3d4e5f60744" in compute["SecurityGroupIds"]
    instance = existing.one("AWS::EC2::Instance")["Properties"]
    assert instance["SubnetId"] == "subnet-0a1b2c3d4e5f60733"
    assert "sg-0a1b2c3d4e5f60744" in instance["SecurityGroupIds"]
    assert instance.get("AvailabilityZone", {"Ref": "AWS::NoValue"}) == {"Ref": "AWS::NoValue"}
    targets = existing.resources("AWS::EFS::MountTarget").values()
    assert sorted(t["Properties"]["SubnetId"] for t in targets) == sorted(CONFIGS["efs-existing-vpc"]["subnetIds"].split(","))


def test_no_ingress_from_anywhere(efs: Synth, existing: Synth) -> None:
    for s in (efs, existing):
        for group in s.resources("AWS::EC2::SecurityGroup").values():
            for rule in group["Properties"].get("SecurityGroupIngress", []):
                assert rule.get("CidrIp") != "0.0.0.0/0" and rule.get("CidrIpv6") != "::/0"
        for rule in s.resources("AWS::EC2::SecurityGroupIngress").values():
            assert rule["Properties"].get("CidrIp") != "0.0.0.0/0"


# ------------------------------------------------------------------ storage


def test_efs_is_encrypted_elastic_retained_with_lifecycle(efs: Synth) -> None:
    fs = efs.one("AWS::EFS::FileSystem")
    assert fs["Properties"]["Encrypted"] is True
    assert fs["Properties"]["ThroughputMode"] == "elastic"
    assert {"TransitionToIA": "AFTER_7_DAYS"} in fs["Properties"]["LifecyclePolicies"]
    assert fs["DeletionPolicy"] == "RetainExceptOnCreate" and fs["UpdateReplacePolicy"] == "Retain"


def test_a_checkpoint_read_from_infrequent_access_moves_back_to_standard_on_first_read(efs: Synth) -> None:
    """A restore reads its checkpoint again on the next retry: IA would bill every read, and it is the slower class."""
    policies = efs.one("AWS::EFS::FileSystem")["Properties"]["LifecyclePolicies"]
    assert {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"} in policies


def test_efs_admits_nfs_only_from_compute_nodes(efs: Synth) -> None:
    storage_sg = next(k for k, v in efs.resources("AWS::EC2::SecurityGroup").items() if "CheckpointStorage" in k)
    rules = [r["Properties"] for r in efs.resources("AWS::EC2::SecurityGroupIngress").values()
             if r["Properties"]["GroupId"] == {"Fn::GetAtt": [storage_sg, "GroupId"]}]
    assert len(rules) == 1
    assert rules[0]["FromPort"] == rules[0]["ToPort"] == 2049
    assert rules[0]["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("ComputeSecurityGroup")


def test_the_efs_security_group_sends_nothing(efs: Synth) -> None:
    """Mount targets answer NFS and never open a connection: the group keeps CDK's placeholder that stands for no
    egress rule, so a file system's interfaces cannot be used to reach anything else in the VPC."""
    group = next(v for k, v in efs.resources("AWS::EC2::SecurityGroup").items() if k.startswith("CheckpointStorage"))
    assert group["Properties"]["SecurityGroupEgress"] == [{"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic",
                                                          "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}]


def test_access_point_root_belongs_to_ec2_user(efs: Synth) -> None:
    ap = efs.one("AWS::EFS::AccessPoint")["Properties"]
    assert ap["RootDirectory"] == {
        "CreationInfo": {"OwnerGid": "1000", "OwnerUid": "1000", "Permissions": "755"},
        "Path": "/mmc-checkpoint",
    }

def test_nodes_get_efs_mount_write_and_root_on_this_file_system_only(efs: Synth) -> None:
    statements = [st for st in efs.statements("ComputeInstanceRole") if "elasticfilesystem:ClientMount" in st["Action"]]
    assert len(statements) == 1
    assert statements[0]["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientRootAccess", "elasticfilesystem:ClientWrite"]
    assert statements[0]["Resource"] == {"Fn::GetAtt": [next(iter(efs.resources("AWS::EFS::FileSystem"))), "Arn"]}

def test_management_server_is_ubuntu_imdsv2_encrypted_and_session_manager_only(efs: Synth) -> None:
    instance = efs.one("AWS::EC2::Instance")["Properties"]
    # Resolved when the instance launches, so a new Canonical image never replaces a running server (F2).
    assert instance["ImageId"] == "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
    assert not any("ami-id" in json.dumps(p) for p in efs.template.get("Parameters", {}).values())
    assert instance["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/sda1", "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 30, "VolumeType": "gp3"}}
    ]
    assert "KeyName" not in instance
    lts = [lt["Properties"]["LaunchTemplateData"] for lt in efs.resources("AWS::EC2::LaunchTemplate").values()]
    assert all(lt["MetadataOptions"]["HttpTokens"] == "required" for lt in lts) and len(lts) == 2
    server_role = next(r for r in efs.resources("AWS::IAM::Role").values() if r["Properties"].get("Description") == "MMAB management server")
    assert "ManagedPolicyArns" not in server_role["Properties"], "Session Manager comes from its own statements"

def test_default_server_has_no_ingress_but_from_compute_nodes(efs: Synth) -> None:
    server_rules = [r["Properties"] for r in efs.resources("AWS::EC2::SecurityGroupIngress").values()
                    if r["Properties"]["GroupId"]["Fn::GetAtt"][0].startswith("ManagementServer")]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]["Fn::GetAtt"][0][:20]) for r in server_rules] == [(8080, "ComputeSecurityGroup")]

def test_admin_cidr_with_key_opens_8080_and_ssh_to_that_range_only(existing: Synth) -> None:
    group = next(v for k, v in existing.resources("AWS::EC2::SecurityGroup").items() if k.startswith("ManagementServer"))
    ingress = group["Properties"]["SecurityGroupIngress"]
    assert sorted((r["FromPort"], r["CidrIp"]) for r in ingress) == [(22, "203.0.113.0/24"), (8080, "203.0.113.0/24")]
    assert existing.one("AWS::EC2::Instance")["Properties"]["KeyName"] == "ops"


def test_ssh_from_the_admin_range_is_port_22_alone(existing: Synth) -> None:
    """Each admin rule opens one port: a range from 22 up would open to adminCidr whatever listens on the ports
    between, not only SSH."""
    group = next(v for k, v in existing.resources("AWS::EC2::SecurityGroup").items() if k.startswith("ManagementServer"))
    rules = group["Properties"]["SecurityGroupIngress"]
    assert sorted((r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in rules) == [("tcp", 22, 22), ("tcp", 8080, 8080)]


def test_the_server_may_reach_out_to_download_mmab_and_call_aws(efs: Synth) -> None:
    """The server fetches the MMAB installer (and JuiceFS), calls EC2 and Batch, and registers with Session Manager, all
    outbound: a closed group boots a server without MMAB that nobody can reach through Session Manager."""
    group = next(v for k, v in efs.resources("AWS::EC2::SecurityGroup").items() if k.startswith("ManagementServer"))
    assert group["Properties"]["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}]


def test_key_without_admin_cidr_keeps_ssh_closed(tmp_path) -> None:
    s = synthesize({"keyName": "ops"}, tmp_path)
    group = next(v for k, v in s.resources("AWS::EC2::SecurityGroup").items() if k.startswith("ManagementServer"))
    assert "SecurityGroupIngress" not in group["Properties"]

def test_server_reads_only_the_configured_installer_object(existing: Synth) -> None:
    statements = [
        st for p in existing.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Sid") == "ReadMmabInstaller"
    ]
    assert statements == [
        {
            "Sid": "ReadMmabInstaller",
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::example-artifacts/mmab/mmab-1.4.0-release.deb"]]},
        }
    ]

def test_server_volume_permissions_are_scoped_to_account_and_region(efs: Synth) -> None:
    statements = [
        st for p in efs.resources("AWS::IAM::Policy").values() for st in p["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("ec2:") and "Describe" not in a for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]))
    ]
    resources = [r for st in statements for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])]
    assert len(statements) == 4 and all("AWS::AccountId" in json.dumps(r) and "AWS::Region" in json.dumps(r) for r in resources)

def test_missing_install_source_is_a_warning_not_a_failure(efs: Synth, existing: Synth) -> None:
    def warnings(s: Synth) -> list[str]:
        return [v["ruleName"] for p in s.validation_report()["pluginReports"] for v in p["violations"]]

    assert "Annotation::mmbatch:mmabSourceMissing" in warnings(efs)
    assert "Annotation::mmbatch:mmabSourceMissing" not in warnings(existing)

# ------------------------------------------------------------------ compute

def test_compute_environment_is_spot_price_capacity_optimized_al2023(efs: Synth) -> None:
    ce = efs.node_one("AWS::Batch::ComputeEnvironment")["Properties"]
    resources = ce["ComputeResources"]
    assert resources["Type"] == "SPOT"
    assert resources["AllocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert resources["InstanceTypes"] == list(DEFAULT_INSTANCE_TYPES)
    assert (resources["MinvCpus"], resources["MaxvCpus"]) == (0, 256)
    assert resources["Ec2Configuration"] == [{"ImageType": "ECS_AL2023"}]
    assert "ComputeEnvironmentName" not in ce
    assert ce["ReplaceComputeEnvironment"] is False

def test_on_demand_uses_best_fit_progressive(tmp_path) -> None:
    resources = synthesize({"spot": "false"}, tmp_path).node_one("AWS::Batch::ComputeEnvironment")["Properties"]["ComputeResources"]
    assert resources["Type"] == "EC2"
    assert resources["AllocationStrategy"] == "BEST_FIT_PROGRESSIVE"

def test_compute_environment_follows_the_launch_templates_latest_version(efs: Synth) -> None:
    logical_id, _ = efs.node_launch_template()
    lt_ref = efs.node_one("AWS::Batch::ComputeEnvironment")["Properties"]["ComputeResources"]["LaunchTemplate"]
    assert lt_ref == {"LaunchTemplateId": {"Ref": logical_id}, "Version": {"Fn::GetAtt": [logical_id, "LatestVersionNumber"]}}

def test_replacing_the_server_leaves_the_node_launch_templates_alone(efs: Synth, tmp_path) -> None:
    other = synthesize({"ckptInterval": "20m"}, tmp_path)  # changes only the server's user data
    assert set(efs.resources("AWS::EC2::Instance")) != set(other.resources("AWS::EC2::Instance")), "the server is replaced"
    assert efs.node_launch_template() == other.node_launch_template()
    record = efs.one("AWS::Route53::RecordSet")["Properties"]
    assert record["Name"] == "mmab.mmbatch-efs.mmbatch.internal." and record["TTL"] == "60"
    assert record["ResourceRecords"] == [{"Fn::GetAtt": [next(iter(efs.resources("AWS::EC2::Instance"))), "PrivateIp"]}]
    zone = efs.one("AWS::Route53::HostedZone")["Properties"]
    assert zone["Name"] == "mmbatch-efs.mmbatch.internal." and zone["VPCs"][0]["VPCId"] == {"Ref": "NetworkVpc7FB7348F"}

def test_a_new_mmab_version_rolls_the_nodes_onto_the_new_agent(efs: Synth, tmp_path) -> None:
    other = synthesize({"mmabVersion": "1.5.0-release"}, tmp_path)
    assert set(efs.resources("AWS::EC2::Instance")) != set(other.resources("AWS::EC2::Instance"))
    bootstrap = other.node_script("node-bootstrap")
    assert "export MMAB_VERSION=1.5.0-release" in bootstrap, "nodes install the agent of the server's release"

def test_node_launch_template_is_imdsv2_encrypted_gp3_multipart(efs: Synth) -> None:
    data = efs.node_launch_template()[1]["Properties"]["LaunchTemplateData"]
    # One hop: bridge-mode job containers cannot get an IMDSv2 token, so jobs cannot take the node's credentials (F8).
    assert data["MetadataOptions"] == {"HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
    assert data["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/xvda", "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 30, "VolumeType": "gp3"}}
    ]
    parts = shell_parts(user_data_document(data["UserData"]))
    # The log agent first (so a failed boot's logs still ship), then storage (which installs the ECS gate), then the rest.
    assert efs.steps(parts) == ["cloudwatch-agent", "efs-mount", "node-bootstrap", "aws-cli"]
    parts = parts[1:]
    assert "FILE_SYSTEM_ID=" in parts[0]
    # No mmabSource by default: checkpointing is off, and nodes say so rather than wait for an agent (F7).
    assert "export AGENT_MODE=absent\n" in parts[1] and "MMAB_ADDRESS" not in parts[1].split("\n#", 1)[0]

def test_nodes_of_a_server_with_mmab_install_from_its_stable_name(existing: Synth) -> None:
    bootstrap = existing.node_script("node-bootstrap")
    assert "export AGENT_MODE=required\n" in bootstrap and "export AGENT_WAIT_SECONDS=900\n" in bootstrap
    assert "export MMAB_ADDRESS=mmab.mmbatch-efs.mmbatch.internal\n" in bootstrap

def test_node_security_group_admits_nothing(efs: Synth) -> None:
    group = next(v for k, v in efs.resources("AWS::EC2::SecurityGroup").items() if k.startswith("ComputeSecurityGroup"))
    assert "SecurityGroupIngress" not in group["Properties"]


def test_the_nodes_may_reach_out_to_storage_the_server_and_aws(efs: Synth) -> None:
    """Nodes open every connection they make: NFS to the mount targets (6379 to MemoryDB), 8080 to the server, and
    HTTPS to ECS, ECR, S3 and CloudWatch. The storage and the server admit the group; a group that sends nothing
    boots nodes that mount nothing, install no agent and never join the ECS cluster."""
    group = next(v for k, v in efs.resources("AWS::EC2::SecurityGroup").items() if k.startswith("ComputeSecurityGroup"))
    assert group["Properties"]["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}]


def test_the_server_reads_the_job_logs_not_the_nodes(efs: Synth) -> None:
    """serve_agent lets the management server read its nodes' job logs; the grant goes to the server's role. On the
    node role instead, the server could not read them and the nodes would hold a read they do not need."""
    group = next(k for k in efs.resources("AWS::Logs::LogGroup") if k.startswith("ComputeJobLogs"))

    def reads(role: str) -> list[dict]:
        return [st for st in efs.statements(role)
                if "logs:GetLogEvents" in st["Action"] and group in json.dumps(st["Resource"])]

    assert reads("ManagementServerRole")
    assert not reads("ComputeInstanceRole")


def test_the_single_queue_has_priority_1_and_keeps_job_logs_a_month(efs: Synth) -> None:
    queue = efs.node_one("AWS::Batch::JobQueue")["Properties"]
    assert queue["Priority"] == 1 and len(queue["ComputeEnvironmentOrder"]) == 1
    logs = [r for k, r in efs.resources("AWS::Logs::LogGroup").items() if k.startswith("ComputeJobLogs")]
    assert logs[0]["Properties"]["RetentionInDays"] == 30

def test_outputs_name_the_server_the_queue_the_job_logs_and_the_storage(efs: Synth) -> None:
    outputs = efs.template["Outputs"]
    for key in ("ManagementServerUrl", "ManagementServerInstanceId", "ManagementPortForwardCommand", "JobQueueArn",
                "JobLogGroupName", "FileSystemId", "AccessPointId", "CheckpointMountPoint"):
        assert key in outputs
    assert "AWS-StartPortForwardingSession" in json.dumps(outputs["ManagementPortForwardCommand"]["Value"])

def test_an_output_says_whether_checkpointing_is_on(efs: Synth, existing: Synth) -> None:
    assert efs.template["Outputs"]["Checkpointing"]["Value"].startswith("OFF: no mmabSource")
    assert existing.template["Outputs"]["Checkpointing"]["Value"] == "on"

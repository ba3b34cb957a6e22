"""ManagementServer: the MMAB server (dashboard, REST API, agent installer) on an Ubuntu LTS instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from constructs import Construct

from .agent import MMAB_PORT, AgentInstaller
from .instance_types import architecture
from .nag import how_to_accept
from .package_source import package_source_problem, s3_object
from .session_manager import SESSION_MANAGER_ACKNOWLEDGMENTS, grant_session_manager
from .subnets import select_subnets
from .user_data import add_script, render

if TYPE_CHECKING:
    from .log_shipping import LogShipping

__all__ = ["DEPLOYMENT_TAG_KEY", "ManagementServer", "MMAB_PORT", "MMAB_SOURCE_WARNING", "UBUNTU_AMI_PARAMETER"]

DEPLOYMENT_TAG_KEY = "mmbatch-stack"
"""Tag key marking a deployment's compute nodes and per-job volumes; no ':' because MMAB's job.customTags setting
is a list of ``key:value`` pairs."""

MMAB_SOURCE_WARNING = "mmbatch:mmabSourceMissing"
"""Id of the warning raised when no MMAB install source is configured."""

UBUNTU_AMI_PARAMETER = "/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"
"""Canonical's public SSM parameter for the current Ubuntu 24.04 LTS image of a region."""


@jsii.implements(iam.IGrantable)
class ManagementServer(Construct):
    """An EC2 instance running MMAB, reachable on port 8080 from compute nodes and ``admin_cidr`` only.

    The instance runs the current Ubuntu 24.04 LTS image of its region (Canonical's public SSM
    parameter, resolved at deploy time), requires IMDSv2, has an encrypted gp3 root volume and is
    managed through SSM Session Manager. SSH opens only when both ``key_name`` and ``admin_cidr``
    are given. MMAB is installed at first boot from ``mmab_source``; how MemVerge distributes MMAB is
    not public, so there is no default source: without one the server boots, logs that MMAB is not
    installed, and synthesis warns. A change of user data (e.g. a new ``mmab_version``) replaces the
    instance, which changes its private address and so rolls the compute nodes too.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        mmab_version: str = "1.4.0-release",
        mmab_source: Optional[str] = None,
        mmab_sha256: Optional[str] = None,
        instance_type: str = "m6i.large",
        root_volume_gib: int = 30,
        detailed_monitoring: bool = False,
        key_name: Optional[str] = None,
        admin_cidr: Optional[str] = None,
        public_ip: Optional[bool] = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        ckpt_interval: str = "15m",
        private_zone_name: Optional[str] = None,
        deployment_tag_value: Optional[str] = None,
        ebs_scope: str = "tag",
        ebs_kms_key_arn: Optional[str] = None,
        ebs_snapshots: bool = False,
        log_shipping: Optional["LogShipping"] = None,
        ssm_register_tagged: bool = False,
    ) -> None:
        """
        :param vpc: the VPC of the instance.
        :param vpc_subnets: where the instance goes (the first subnet selected). Default: the VPC's private subnets.
        :param mmab_version: MMAB release to install. Default: ``1.4.0-release``.
        :param mmab_source: ``https://`` URL or ``s3://bucket/key`` of the MMAB installer; ``{version}`` is replaced
            by ``mmab_version``. Default: none (MMAB not installed; a warning is added).
        :param mmab_sha256: SHA-256 the installer must have. Default: not verified.
        :param instance_type: EC2 instance type; the image's architecture follows it. Default: ``m6i.large``.
        :param root_volume_gib: size of the encrypted gp3 root volume. Default: 30.
        :param detailed_monitoring: 1-minute EC2 metrics (billed as custom CloudWatch metrics). Default: False (5-minute).
        :param key_name: EC2 key pair for SSH (opened only together with ``admin_cidr``). Default: none.
        :param admin_cidr: address range allowed to reach port 8080 (and 22 with ``key_name``). Default: none.
        :param public_ip: give the instance a public IP. Default: the subnet's setting.
        :param security_groups: extra security groups for the instance. Default: none.
        :param ckpt_interval: checkpoint interval set through the MMAB API after install. Default: ``15m``.
        :param private_zone_name: the Route 53 private hosted zone (associated with ``vpc``) that names the server
            ``mmab.<zone>`` for the nodes; the VPC needs DNS support and DNS hostnames. Default:
            ``<stack name>.mmbatch.internal``.
        :param deployment_tag_value: the value of the ``mmbatch-stack`` tag that marks this deployment's compute
            nodes and per-job volumes (nodes get it where they are wired to this server). Default: the stack name.
        :param ebs_scope: ``tag``: MMAB may create per-job EBS volumes only with the deployment tag and attach,
            detach or delete only tagged volumes on tagged nodes; ``account``: any volume and instance of this
            account and region, for an MMAB release that does not tag volumes when it creates them. Default: ``tag``.
        :param ebs_kms_key_arn: the customer managed KMS key that encrypts this account's EBS volumes by default (EC2
            "EBS encryption by default"), which MMAB's per-job volumes then use: the server may use it through EC2
            only (``kms:ViaService``), and create grants only for AWS resources (``kms:GrantIsForAWSResource``). Not
            needed with the AWS managed ``aws/ebs`` key. Default: none.
        :param ebs_snapshots: also let MMAB snapshot its per-job volumes and restore volumes from those snapshots,
            tagged like the volumes (with ``ebs_scope=tag``); whether an MMAB release uses snapshots is not documented
            by MemVerge. Default: False.
        :param log_shipping: ships ``/var/log/mmab/`` and cloud-init's logs to CloudWatch Logs (its agent part runs
            first at boot). Default: none.
        :param ssm_register_tagged: tag the instance with :attr:`deployment_tag` and let it register with Session
            Manager only with that tag (``session_manager.grant_session_manager(register_tag=)``: unverified, opt-in).
            Default: False.
        """
        super().__init__(scope, id)
        if ebs_scope not in ("tag", "account"):
            raise ValueError(f"{self.node.path}: ebs_scope: {ebs_scope!r} is not accepted; expected tag or account")
        problem = mmab_source and package_source_problem(mmab_source)
        if problem:
            raise ValueError(f"{self.node.path}: mmab_source: {problem}")
        stack = cdk.Stack.of(self)
        stack_name = stack.stack_name
        self.deployment_tag = (DEPLOYMENT_TAG_KEY, deployment_tag_value or stack_name)
        """``(key, value)`` of the tag on this deployment's compute nodes and the per-job volumes MMAB creates."""
        self.mmab_version = mmab_version
        """The MMAB release this server installs."""
        self.ckpt_interval = ckpt_interval
        """The checkpoint interval the boot script sets through MMAB's API (``PUT /api/v1/ckptConfig``)."""
        self.installs_mmab = bool(mmab_source)
        """False without an install source: the server boots without MMAB, and nodes run jobs without the agent."""

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="MMAB management server", allow_all_outbound=True
        )
        """The server's own security group; ingress only on 8080 from granted peers and ``admin_cidr``."""
        self.connections = ec2.Connections(
            security_groups=[self.security_group], default_port=ec2.Port.tcp(MMAB_PORT)
        )
        """Network access to MMAB: ``server.connections.allow_default_port_from(peer)`` opens 8080."""
        self._admit_admin(admin_cidr, key_name)
        self._ssm_register_tagged = ssm_register_tagged
        self.role = self._server_role(stack, ebs_scope, mmab_source, mmab_version, ebs_kms_key_arn, ebs_snapshots)
        """The instance role: Session Manager, the EC2/EBS and Batch calls MMAB makes, and granted log reads."""
        mmab_install = render(
            "management_server.sh",
            {
                "MMAB_VERSION": mmab_version,
                "MMAB_SOURCE": mmab_source or "",
                "MMAB_SHA256": mmab_sha256 or "",
                "MMAB_PORT": MMAB_PORT,
                "CKPT_INTERVAL": ckpt_interval,
                "MMAB_CUSTOM_TAGS": ":".join(self.deployment_tag) if ebs_scope == "tag" else "",
            },
        )
        self._user_data = ec2.MultipartUserData()
        if log_shipping is not None:
            add_script(self._user_data, log_shipping.server_script())
            log_shipping.grant_server(self.role)
        add_script(self._user_data, mmab_install)
        self._boot_scripts: list[str] = [mmab_install]
        self.instance = self._instance(
            vpc, vpc_subnets, instance_type, root_volume_gib, detailed_monitoring, key_name, public_ip, security_groups,
            stack_name,
        )
        """The EC2 instance."""
        zone_name = private_zone_name or f"{stack_name.lower()}.mmbatch.internal"
        self.private_zone = route53.PrivateHostedZone(self, "PrivateZone", zone_name=zone_name, vpc=vpc)
        """The private hosted zone holding the server's name."""
        # Nodes find the server by this name, so a replaced server (new address) changes no node launch template.
        self._record = route53.ARecord(
            self, "Name", zone=self.private_zone, record_name="mmab",
            target=route53.RecordTarget.from_ip_addresses(self.instance.instance_private_ip),
            ttl=cdk.Duration.seconds(60),
        )
        self.private_name = f"mmab.{zone_name}"
        """The server's stable private DNS name, ``mmab.<zone>``."""

        if not mmab_source:
            cdk.Annotations.of(self).add_warning_v2(
                MMAB_SOURCE_WARNING,
                "No MMAB install source (context key mmabSource): checkpointing is OFF. The management server boots "
                "without MMAB and compute nodes run jobs at once without the agent, so a Spot reclaim loses a running "
                "job's progress. See docs/deploy.md 'Installing MMAB'. " + how_to_accept(MMAB_SOURCE_WARNING),
            )
        self._acknowledge_findings(detailed_monitoring, public_ip)

    def _admit_admin(self, admin_cidr: Optional[str], key_name: Optional[str]) -> None:
        """8080 from ``admin_cidr``, and 22 when a key pair is given too."""
        if not admin_cidr:
            return
        peer = ec2.Peer.ipv6(admin_cidr) if ":" in admin_cidr else ec2.Peer.ipv4(admin_cidr)
        self.connections.allow_default_port_from(peer, "MMAB dashboard and API from adminCidr")
        if key_name:
            self.connections.allow_from(peer, ec2.Port.tcp(22), "SSH from adminCidr")

    def _server_role(
        self, stack: cdk.Stack, ebs_scope: str, mmab_source: Optional[str], mmab_version: str, ebs_kms_key_arn: Optional[str],
        ebs_snapshots: bool,
    ) -> iam.Role:
        """Session Manager, MMAB's EC2/Batch calls (and the EBS extras asked for), read access to an ``s3://``
        installer; the wildcards they need acknowledged on the role's default policy, in one call."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="MMAB management server",
        )
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        grant_session_manager(role, instance_arn=instances, acknowledge=False,
                              register_tag=self.deployment_tag if self._ssm_register_tagged else None)
        _grant_mmab_permissions(role, stack, instances, self.deployment_tag, ebs_scope)
        snapshots = _grant_ebs_extras(role, stack, self.deployment_tag, ebs_scope, ebs_kms_key_arn, ebs_snapshots)
        if mmab_source and mmab_source.startswith("s3://"):
            _grant_installer_read(role, stack, mmab_source.replace("{version}", mmab_version))
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert policy is not None
        cdk.Validations.of(policy).acknowledge(
            *SESSION_MANAGER_ACKNOWLEDGMENTS,
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]",
                reason="MMAB's per-job EBS volumes get their ids at run time. With ebs_scope=tag (the default) it may "
                "create them only with this deployment's tag, tag only at creation, and attach, detach or delete only "
                "volumes carrying the tag (aws:RequestTag / aws:ResourceTag / ec2:CreateAction conditions).",
            ),
            *snapshots,
        )
        return role

    def _instance(
        self,
        vpc: ec2.IVpc,
        vpc_subnets: Optional[ec2.SubnetSelection],
        instance_type: str,
        root_volume_gib: int,
        detailed_monitoring: bool,
        key_name: Optional[str],
        public_ip: Optional[bool],
        security_groups: Sequence[ec2.ISecurityGroup],
        stack_name: str,
    ) -> ec2.Instance:
        """The Ubuntu instance: IMDSv2, encrypted gp3 root volume, image resolved at launch, replaced on new user data."""
        arch = "arm64" if architecture(instance_type) == "arm64" else "amd64"
        # Resolved by EC2 when the instance launches ("resolve:ssm:" in ImageId), not on every deploy: a new
        # Canonical image never replaces a running server; a server replaced for another reason gets it.
        image = ec2.MachineImage.resolve_ssm_parameter_at_launch(
            UBUNTU_AMI_PARAMETER.format(arch=arch), os=ec2.OperatingSystemType.LINUX
        )
        instance = ec2.Instance(
            self,
            "Instance",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            instance_type=ec2.InstanceType(instance_type),
            machine_image=image,
            role=self.role,
            security_group=self.security_group,
            user_data=self._user_data,
            user_data_causes_replacement=True,
            require_imdsv2=True,
            detailed_monitoring=detailed_monitoring or None,
            associate_public_ip_address=public_ip,
            key_pair=ec2.KeyPair.from_key_pair_name(self, "KeyPair", key_name) if key_name else None,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/sda1",
                    volume=ec2.BlockDeviceVolume.ebs(
                        root_volume_gib, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
                    ),
                )
            ],
        )
        # The subnet fixes the zone. Without this, imported subnets need their zone names in the
        # template (hard-coded, region-bound), and a new VPC adds an Fn::Select of Fn::GetAZs.
        instance_resource = instance.node.default_child
        assert isinstance(instance_resource, ec2.CfnInstance)
        instance_resource.add_property_deletion_override("AvailabilityZone")
        # cfn-lint's format check knows AMI ids only; EC2 takes "resolve:ssm:<parameter>" as ImageId at launch
        # (EC2 user guide, "Launch an instance using a Systems Manager parameter"; aws-cdk#26273 for instances).
        instance_resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E1152"]}})
        cdk.Validations.of(instance_resource).acknowledge(
            cdk.Acknowledgment(
                id="CloudFormation-Validate::E1152",
                reason="ImageId is resolve:ssm:<Canonical's Ubuntu parameter>, which EC2 resolves when the instance "
                "launches; the format check knows only literal AMI ids.",
            )
        )
        for group in security_groups:
            instance.add_security_group(group)
        cdk.Tags.of(instance).add("Name", f"Management-Server-{stack_name}")
        if self._ssm_register_tagged:  # what its Session Manager registration is conditioned on
            cdk.Tags.of(instance).add(*self.deployment_tag)
        # In private subnets the installer download needs the NAT route (F9 of the pre-deploy review).
        instance_resource.node.add_dependency(select_subnets(vpc, vpc_subnets).internet_connectivity_established)
        return instance

    def add_boot_script(self, script: str) -> None:
        """Run ``script`` (bash, shebang included) at first boot, after the MMAB install; a script added twice runs once.

        The instance's replacement hash covers every script, so a changed script replaces the server.
        """
        if script in self._boot_scripts:
            return
        self._boot_scripts.append(script)
        add_script(self._user_data, script)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The server's role, for grants such as ``storage.grant_node(server)``."""
        return self.role

    @property
    def agent_installer(self) -> AgentInstaller:
        """Where compute nodes fetch the MMBatch agent from: this server's private address, port and MMAB version."""
        return AgentInstaller(address=self.private_name, mmab_version=self.mmab_version, port=MMAB_PORT,
                              available=self._record, enabled=self.installs_mmab)

    @property
    def private_ip(self) -> str:
        """The server's private IPv4 address (a token), which compute nodes use to reach MMAB."""
        return self.instance.instance_private_ip

    @property
    def url(self) -> str:
        """``https://mmab.<zone>:8080``, the dashboard and API inside the VPC."""
        return f"https://{self.private_name}:{MMAB_PORT}"

    @property
    def instance_id(self) -> str:
        """The EC2 instance id (for Session Manager)."""
        return self.instance.instance_id

    def _acknowledge_findings(self, detailed_monitoring: bool, public_ip: Optional[bool]) -> None:
        """cdk-nag findings that the props leave, the HIPAA Security / NIST 800-53 R5 ones included
        (docs/security.md): one ``acknowledge`` call per resource."""
        from .nag import compliance_acknowledgments

        cdk.Validations.of(self.role).acknowledge(*compliance_acknowledgments(
            "IAMNoInlinePolicy",
            "aws-cdk-lib's per-role default policy: attached to the server role only, created and deleted with it; it "
            "holds MMAB's EC2/Batch statements and the storage and log grants, each scoped as far as IAM allows.",
        ))
        cdk.Validations.of(self.instance).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-EC28",
                reason="One control-plane instance: its status checks, which the stack alarms on, are 1-minute metrics "
                "without detailed monitoring; 5-minute CPU and network metrics are enough for it.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-EC29",
                reason="CloudFormation replaces this instance when its MMAB version changes; termination protection "
                "would block that update and stack deletion. Checkpoints live on shared storage, not here.",
            ),
            *(() if detailed_monitoring else (cdk.Acknowledgment(
                id="HIPAA.Security::HIPAA.Security-EC2InstanceDetailedMonitoringEnabled",
                reason="One control-plane instance with no alarm on 1-minute metrics; basic 5-minute monitoring is "
                "enough. compliance=hipaa turns detailed monitoring on.",
            ),)),
            *(compliance_acknowledgments(
                "EC2InstancesInVPC",
                "The instance is in a VPC subnet: refusing a public IP moves its SubnetId into NetworkInterfaces[0], "
                "while the rule reads only the top-level SubnetId.",
            ) if public_ip is False else ()),
        )


def _grant_mmab_permissions(role: iam.Role, stack: cdk.Stack, instances: str, deployment_tag: tuple[str, str],
                            ebs_scope: str) -> None:
    """The EC2 and Batch calls MMAB makes: describes, and per-job EBS volumes on this deployment's nodes.

    Condition keys per action and resource type: Service Authorization Reference for Amazon EC2. Each resource
    of a request is authorized on its own, so attach and detach need both the volume and the node tagged.
    """
    role.add_to_policy(iam.PolicyStatement(
        sid="DescribeComputeAndJobs",
        actions=["ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeVolumes",
                 "ec2:DescribeAvailabilityZones", "ec2:DescribeTags", "batch:DescribeJobs", "batch:DescribeJobQueues",
                 "batch:DescribeComputeEnvironments", "batch:DescribeJobDefinitions", "batch:ListJobs"],
        resources=["*"],
    ))
    volumes = stack.format_arn(service="ec2", resource="volume", resource_name="*")
    if ebs_scope == "account":
        role.add_to_policy(iam.PolicyStatement(
            sid="PerJobVolumes",
            actions=["ec2:CreateVolume", "ec2:AttachVolume", "ec2:DetachVolume", "ec2:DeleteVolume", "ec2:CreateTags"],
            resources=[volumes, instances],
        ))
        return
    key, value = deployment_tag
    tagged = {"StringEquals": {f"aws:ResourceTag/{key}": value}}
    for statement in (
        iam.PolicyStatement(sid="CreateTaggedVolumes", actions=["ec2:CreateVolume"], resources=[volumes],
                            conditions={"StringEquals": {f"aws:RequestTag/{key}": value}}),
        # Tags only as part of CreateVolume: the server can never tag (and so adopt) another volume or instance.
        iam.PolicyStatement(sid="TagVolumesAtCreationOnly", actions=["ec2:CreateTags"], resources=[volumes],
                            conditions={"StringEquals": {"ec2:CreateAction": "CreateVolume"}}),
        iam.PolicyStatement(sid="AttachDetachOwnVolumesToOwnNodes", actions=["ec2:AttachVolume", "ec2:DetachVolume"],
                            resources=[volumes, instances], conditions=tagged),
        iam.PolicyStatement(sid="DeleteOwnVolumes", actions=["ec2:DeleteVolume"], resources=[volumes],
                            conditions=tagged),
    ):
        role.add_to_policy(statement)

def _grant_installer_read(role: iam.Role, stack: cdk.Stack, s3_uri: str) -> None:
    """``s3:GetObject`` on the installer object."""
    bucket, key = s3_object(s3_uri)  # type: ignore[misc]  # checked in ManagementServer.__init__
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ReadMmabInstaller",
            actions=["s3:GetObject"],
            resources=[stack.format_arn(service="s3", region="", account="", resource=bucket, resource_name=key)],
        )
    )


def _grant_ebs_extras(role: iam.Role, stack: cdk.Stack, deployment_tag: tuple[str, str], ebs_scope: str,
                      kms_key_arn: Optional[str], snapshots: bool) -> list[cdk.Acknowledgment]:
    """What per-job volumes need only if used: a customer managed default EBS key, and snapshots.

    KMS actions: Amazon EBS user guide, "Requirements for Amazon EBS encryption", permissions for users
    (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html), with its advice to allow
    kms:CreateGrant only with kms:GrantIsForAWSResource; kms:ViaService limits every use to EC2 in this region,
    as the AWS managed aws/ebs key's own policy does. Returns the acknowledgements the default policy needs for them.
    """
    if kms_key_arn:
        via_ec2 = {"kms:ViaService": f"ec2.{stack.region}.{stack.url_suffix}"}
        role.add_to_policy(iam.PolicyStatement(
            sid="DefaultEbsKeyGrantsForEc2", actions=["kms:CreateGrant"], resources=[kms_key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}, "StringEquals": via_ec2}))
        role.add_to_policy(iam.PolicyStatement(
            sid="DefaultEbsKeyThroughEc2",
            actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
                 "kms:ReEncryptTo"],
            resources=[kms_key_arn], conditions={"StringEquals": via_ec2}))
    if not snapshots:
        return []
    volumes = stack.format_arn(service="ec2", resource="volume", resource_name="*")
    snapshot_arns = stack.format_arn(service="ec2", resource="snapshot", resource_name="*", account="")
    role.add_to_policy(iam.PolicyStatement(
        sid="DescribeSnapshots", actions=["ec2:DescribeSnapshots"], resources=["*"]))
    if ebs_scope == "account":
        role.add_to_policy(iam.PolicyStatement(
            sid="PerJobSnapshots", actions=["ec2:CreateSnapshot", "ec2:DeleteSnapshot", "ec2:CreateVolume", "ec2:CreateTags"],
            resources=[volumes, snapshot_arns]))
        return []
    key, value = deployment_tag
    tagged = {"StringEquals": {f"aws:ResourceTag/{key}": value}}
    for statement in (
        iam.PolicyStatement(sid="SnapshotOwnVolumes", actions=["ec2:CreateSnapshot"], resources=[volumes],
                            conditions=tagged),
        iam.PolicyStatement(sid="CreateTaggedSnapshots", actions=["ec2:CreateSnapshot"], resources=[snapshot_arns],
                            conditions={"StringEquals": {f"aws:RequestTag/{key}": value}}),
        iam.PolicyStatement(sid="TagSnapshotsAtCreationOnly", actions=["ec2:CreateTags"], resources=[snapshot_arns],
                            conditions={"StringEquals": {"ec2:CreateAction": "CreateSnapshot"}}),
        iam.PolicyStatement(sid="RestoreAndDeleteOwnSnapshots", actions=["ec2:CreateVolume", "ec2:DeleteSnapshot"],
                            resources=[snapshot_arns], conditions=tagged),
    ):
        role.add_to_policy(statement)
    return [cdk.Acknowledgment(
        id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*]",
        reason="Snapshots of MMAB's per-job volumes get their ids at run time (ebsSnapshots): created only with this "
        "deployment's tag, from its tagged volumes, tagged only at creation, restored or deleted only when tagged.",
    )]

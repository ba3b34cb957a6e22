"""Network: an existing VPC imported by id (no lookups), or a new VPC (two AZs, or the ones named) that costs nothing
idle; compute may be restricted to fewer AZs than storage spans."""

from __future__ import annotations

from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .nag import acknowledge_compliance

__all__ = ["DEFAULT_AZS", "Network"]

DEFAULT_AZS = 2
"""How many availability zones a new VPC spans unless its zones are named."""


class Network(Construct):
    """The VPC, subnets and optional shared security group that the other constructs deploy into.

    With ``vpc_id`` the VPC and subnets are imported from their ids alone, so synthesis needs no AWS
    credentials; their availability zones stay unknown until deploy time, when CloudFormation derives
    them from the subnets. Without ``vpc_id`` a VPC is created over two availability zones (or the
    ``availability_zones`` named) with an S3 gateway endpoint and flow logs of rejected traffic: public subnets
    only (no NAT gateway, nothing billed while idle) or, with ``private_only``, private subnets behind one NAT
    gateway.

    Storage (EFS mount targets, MemoryDB's subnet group) spans every AZ of the network
    (:attr:`storage_subnets`); compute nodes may be kept to fewer (:attr:`compute_subnets`), because MMBatch
    restores a job with per-job EBS volumes only in its volume's AZ and otherwise migrates the volume
    (https://docs.memverge.com/MMBatch/1.4/Release%20Notes). Every compute AZ is a storage AZ.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc_id: Optional[str] = None,
        subnet_ids: Sequence[str] = (),
        management_subnet_id: Optional[str] = None,
        security_group_id: Optional[str] = None,
        private_only: bool = False,
        flow_log_traffic: ec2.FlowLogTrafficType = ec2.FlowLogTrafficType.REJECT,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        log_encryption_key: Optional[kms.IKey] = None,
        map_public_ip_on_launch: Optional[bool] = None,
        availability_zones: Sequence[str] = (),
        compute_az_count: Optional[int] = None,
        compute_subnet_ids: Sequence[str] = (),
    ) -> None:
        """
        :param vpc_id: existing VPC to use. Default: a new VPC.
        :param subnet_ids: with ``vpc_id``, the subnets for compute nodes and storage (required then). Default: none.
        :param management_subnet_id: with ``vpc_id``, the management server's subnet. Default: first of ``subnet_ids``.
        :param security_group_id: an existing security group to add to instances (imported immutable). Default: none.
        :param private_only: no public IPs; a new VPC gets private subnets and one NAT gateway. Default: False.
        :param flow_log_traffic: what a new VPC's flow log records. Default: REJECT (rejected traffic only).
        :param log_retention: how long the flow log group keeps records. Default: ONE_MONTH.
        :param log_encryption_key: customer-managed key of the flow log group (its key policy must admit CloudWatch
            Logs). Default: none (CloudWatch Logs' own encryption).
        :param map_public_ip_on_launch: whether a new VPC's public subnets give instances a public IP; False needs
            ``private_only`` (only the NAT gateway, with its own Elastic IP, is there then). Default: None (True).
        :param availability_zones: a new VPC's AZ names, such as ``us-east-1a``; they must be in the stack's region,
            which an environment-agnostic stack cannot check before deploy. Default: none (the first two of the region's
            AZs, ``Fn::GetAZs``).
        :param compute_az_count: a new VPC's compute nodes use only the subnets of its first this many AZs; storage
            keeps all of them. Default: None (every AZ).
        :param compute_subnet_ids: with ``vpc_id``, the subnets of compute nodes, among ``subnet_ids`` (which storage
            keeps using). Default: none (all of ``subnet_ids``).
        """
        super().__init__(scope, id)
        if vpc_id is None and (subnet_ids or management_subnet_id):
            raise ValueError("Network: subnet_ids and management_subnet_id need vpc_id")
        if vpc_id is not None and not subnet_ids:
            raise ValueError("Network: an existing VPC needs subnet_ids (subnets are not looked up)")
        if map_public_ip_on_launch is False and vpc_id is None and not private_only:
            raise ValueError("Network: map_public_ip_on_launch=False needs private_only (nodes in public subnets "
                             "reach AWS APIs only through their public IP)")
        if vpc_id is not None and (availability_zones or compute_az_count is not None):
            raise ValueError("Network: availability_zones and compute_az_count are for a new VPC; with vpc_id the "
                             "subnets set the zones, and compute_subnet_ids restricts compute")
        if vpc_id is None and compute_subnet_ids:
            raise ValueError("Network: compute_subnet_ids needs vpc_id")
        if set(compute_subnet_ids) - set(subnet_ids):
            raise ValueError("Network: compute_subnet_ids must be among subnet_ids, where storage has its mount targets")
        if len(set(availability_zones)) != len(availability_zones):
            raise ValueError("Network: availability_zones names a zone twice")
        azs = len(availability_zones) or DEFAULT_AZS
        if compute_az_count is not None and not 1 <= compute_az_count <= azs:
            raise ValueError(f"Network: compute_az_count must be 1-{azs}, the VPC's number of availability zones")
        self.private_only = private_only
        """True when instances get no public IP address."""
        self._flow_logs = (flow_log_traffic, log_retention, log_encryption_key, map_public_ip_on_launch)

        if vpc_id is not None:
            self.vpc = self._import(vpc_id, subnet_ids, management_subnet_id)
            compute = [s for s in self.vpc.private_subnets if s.subnet_id in subnet_ids]
            mgmt_id = management_subnet_id or subnet_ids[0]
            management = [s for s in self.vpc.private_subnets if s.subnet_id == mgmt_id]
            self.storage_subnets = ec2.SubnetSelection(subnets=compute)
            """Subnets of the checkpoint storage (EFS mount targets, MemoryDB): every AZ of the network."""
            self.compute_subnets = self.storage_subnets if not compute_subnet_ids else ec2.SubnetSelection(
                subnets=[s for s in compute if s.subnet_id in compute_subnet_ids])
            """Subnets of compute nodes and head jobs: those of the storage subnets' AZs that compute may use."""
            self.management_subnets = ec2.SubnetSelection(subnets=management)
        else:
            self.vpc = self._create(private_only, tuple(availability_zones), *self._flow_logs)
            kind = ec2.SubnetType.PRIVATE_WITH_EGRESS if private_only else ec2.SubnetType.PUBLIC
            self.storage_subnets = ec2.SubnetSelection(subnet_type=kind)
            # A new VPC has one subnet of each kind per AZ, in the order of its AZs.
            self.compute_subnets = self.storage_subnets if compute_az_count is None else ec2.SubnetSelection(
                subnets=self.vpc.select_subnets(subnet_type=kind).subnets[:compute_az_count])
            self.management_subnets = ec2.SubnetSelection(subnet_type=kind, one_per_az=True)

        self.shared_security_group: Optional[ec2.ISecurityGroup] = (
            ec2.SecurityGroup.from_security_group_id(self, "SharedSecurityGroup", security_group_id, mutable=False)
            if security_group_id
            else None
        )
        """The user's existing security group, added to every instance, or None."""

    @property
    def extra_security_groups(self) -> list[ec2.ISecurityGroup]:
        """Security groups every instance gets in addition to its own."""
        return [self.shared_security_group] if self.shared_security_group else []

    def _import(self, vpc_id: str, subnet_ids: Sequence[str], management_subnet_id: Optional[str]) -> ec2.IVpc:
        ids = list(subnet_ids)
        if management_subnet_id and management_subnet_id not in ids:
            ids.append(management_subnet_id)
        # The zones are unknown without a lookup; AWS::NoValue lets CloudFormation take each from its subnet.
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=vpc_id,
            availability_zones=[cdk.Aws.NO_VALUE] * len(ids),
            private_subnet_ids=ids,
        )
        for subnet in vpc.private_subnets:
            cdk.Annotations.of(subnet).acknowledge_warning(
                "@aws-cdk/aws-ec2:noSubnetRouteTableId",
                "Imported subnets are only placed into, never routed from; no route table is read.",
            )
        return vpc

    def _create(self, private_only: bool, zones: tuple[str, ...], traffic: ec2.FlowLogTrafficType, retention: logs.RetentionDays,
                key: Optional[kms.IKey], map_public_ip: Optional[bool]) -> ec2.Vpc:
        subnets = [ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=20,
                                           map_public_ip_on_launch=map_public_ip)]
        if private_only:
            subnets.append(
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=18)
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.64.0.0/16"),
            # Named zones pass through as literals in an environment-agnostic stack: aws-cdk-lib checks them against
            # the stack's zones only when those are known (aws-cdk-lib 2.275.0 aws-ec2/lib/vpc.js,
            # resolveStackAvailabilityZones drops unresolved tokens), so a zone outside the region fails at deploy.
            **({"availability_zones": list(zones)} if zones else {"max_azs": DEFAULT_AZS}),
            nat_gateways=1 if private_only else 0,
            subnet_configuration=subnets,
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        # Retained on stack deletion, like the job logs: rejected-traffic records are audit evidence.
        flow_log_group = logs.LogGroup(self, "FlowLogs", retention=retention, encryption_key=key,
                                       removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        # Named for what it records; "RejectedTraffic" (the default) keeps the logical ids it always had.
        flow_log = vpc.add_flow_log(
            "RejectedTraffic" if traffic == ec2.FlowLogTrafficType.REJECT else f"{traffic.value.capitalize()}Traffic",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=traffic,
        )
        _acknowledge_default_profile(vpc, flow_log, flow_log_group, private_only, key, map_public_ip)
        _quiet_cfn_lint_on_default_sg_provider(cdk.Stack.of(self))
        return vpc


def _acknowledge_default_profile(vpc: ec2.Vpc, flow_log: ec2.FlowLog, group: logs.LogGroup, private_only: bool,
                                 key: Optional[kms.IKey], map_public_ip: Optional[bool]) -> None:
    """HIPAA Security / NIST 800-53 R5 findings of a new VPC that its settings leave (docs/security.md)."""
    role = flow_log.node.try_find_child("IAMRole")
    if role is not None:
        acknowledge_compliance(
            role, "IAMNoInlinePolicy",
            "aws-cdk-lib's flow-log role policy: attached to this role only, created and deleted with it; it lets VPC "
            "Flow Logs write to this one log group and pass this role, nothing else.",
        )
    if key is None:
        acknowledge_compliance(
            group, "CloudWatchLogGroupEncrypted",
            "CloudWatch Logs encrypts all log data at rest with its own keys; a customer-managed key for the flow logs "
            "is what compliance=hipaa adds.",
        )
    for subnet in vpc.public_subnets:
        route = subnet.node.try_find_child("DefaultRoute")
        if private_only:
            why = ("Public subnet of a privateOnly VPC: it holds only the NAT gateway, which needs this route to the "
                   "internet gateway; no instance of this stack is placed in it.")
        else:
            why = ("Default VPC without NAT gateway: nodes and server sit in public subnets and reach ECR, ECS, S3 and "
                   "MMAB's downloads through this route; no security group admits 0.0.0.0/0. privateOnly=true avoids it.")
        if route is not None:
            acknowledge_compliance(route, "VPCNoUnrestrictedRouteToIGW", why)
        if map_public_ip is not False:
            acknowledge_compliance(
                subnet.node.default_child or subnet, "VPCSubnetAutoAssignPublicIpDisabled",
                "Public subnet of the no-NAT default VPC: nodes need a public IP to reach AWS APIs; nothing admits "
                "ingress from 0.0.0.0/0." if not private_only else
                "Public subnet of a privateOnly VPC: only the NAT gateway (its own Elastic IP) lives here; "
                "compliance=hipaa turns public IPs on launch off.",
            )


def _quiet_cfn_lint_on_default_sg_provider(stack: cdk.Stack) -> None:
    """aws-cdk-lib's provider that empties the default security group declares a DependsOn that its
    GetAtt already implies; cfn-lint warns (W3005). Silence that one check on that one resource."""
    provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    handler = provider.node.try_find_child("Handler") if provider else None
    if isinstance(handler, cdk.CfnResource):
        handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

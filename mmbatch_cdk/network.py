"""Network: an existing VPC imported by id (no lookups), or a new two-AZ VPC that costs nothing idle."""

from __future__ import annotations

from typing import Optional, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

__all__ = ["Network"]


class Network(Construct):
    """The VPC, subnets and optional shared security group that the other constructs deploy into.

    With ``vpc_id`` the VPC and subnets are imported from their ids alone, so synthesis needs no AWS
    credentials; their availability zones stay unknown until deploy time, when CloudFormation derives
    them from the subnets. Without ``vpc_id`` a VPC is created over two availability zones with an S3
    gateway endpoint and flow logs of rejected traffic: public subnets only (no NAT gateway, nothing
    billed while idle) or, with ``private_only``, private subnets behind one NAT gateway.
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
    ) -> None:
        """
        :param vpc_id: existing VPC to use. Default: a new VPC.
        :param subnet_ids: with ``vpc_id``, the subnets for compute nodes and storage (required then). Default: none.
        :param management_subnet_id: with ``vpc_id``, the management server's subnet. Default: first of ``subnet_ids``.
        :param security_group_id: an existing security group to add to instances (imported immutable). Default: none.
        :param private_only: no public IPs; a new VPC gets private subnets and one NAT gateway. Default: False.
        """
        super().__init__(scope, id)
        if vpc_id is None and (subnet_ids or management_subnet_id):
            raise ValueError("Network: subnet_ids and management_subnet_id need vpc_id")
        if vpc_id is not None and not subnet_ids:
            raise ValueError("Network: an existing VPC needs subnet_ids (subnets are not looked up)")
        self.private_only = private_only
        """True when instances get no public IP address."""

        if vpc_id is not None:
            self.vpc = self._import(vpc_id, subnet_ids, management_subnet_id)
            compute = [s for s in self.vpc.private_subnets if s.subnet_id in subnet_ids]
            mgmt_id = management_subnet_id or subnet_ids[0]
            management = [s for s in self.vpc.private_subnets if s.subnet_id == mgmt_id]
            self.compute_subnets = ec2.SubnetSelection(subnets=compute)
            self.management_subnets = ec2.SubnetSelection(subnets=management)
        else:
            self.vpc = self._create(private_only)
            kind = ec2.SubnetType.PRIVATE_WITH_EGRESS if private_only else ec2.SubnetType.PUBLIC
            self.compute_subnets = ec2.SubnetSelection(subnet_type=kind)
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

    def _create(self, private_only: bool) -> ec2.Vpc:
        subnets = [ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=20)]
        if private_only:
            subnets.append(
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=18)
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.64.0.0/16"),
            max_azs=2,
            nat_gateways=1 if private_only else 0,
            subnet_configuration=subnets,
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        # Retained on stack deletion, like the job logs: rejected-traffic records are audit evidence.
        flow_log_group = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        vpc.add_flow_log(
            "RejectedTraffic",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        _quiet_cfn_lint_on_default_sg_provider(cdk.Stack.of(self))
        return vpc


def _quiet_cfn_lint_on_default_sg_provider(stack: cdk.Stack) -> None:
    """aws-cdk-lib's provider that empties the default security group declares a DependsOn that its
    GetAtt already implies; cfn-lint warns (W3005). Silence that one check on that one resource."""
    provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    handler = provider.node.try_find_child("Handler") if provider else None
    if isinstance(handler, cdk.CfnResource):
        handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

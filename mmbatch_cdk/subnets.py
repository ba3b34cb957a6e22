"""Selecting subnets with a :class:`ec2.SubnetSelection` object (aws-cdk-lib's Python binding takes keywords)."""

from __future__ import annotations

from typing import Optional

from aws_cdk import aws_ec2 as ec2

__all__ = ["select_subnets"]


def select_subnets(vpc: ec2.IVpc, selection: Optional[ec2.SubnetSelection]) -> ec2.SelectedSubnets:
    """``vpc.select_subnets(selection)``; None selects the VPC's default (its private subnets, else public)."""
    if selection is None:
        return vpc.select_subnets()
    return vpc.select_subnets(
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
        subnet_group_name=selection.subnet_group_name,
        one_per_az=selection.one_per_az,
        availability_zones=selection.availability_zones,
        subnet_filters=selection.subnet_filters,
    )

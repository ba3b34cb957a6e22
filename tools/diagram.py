"""Draw a synthesized CloudFormation template as a Mermaid flowchart, grouped by top-level construct.

Usage: ``make diagram``, or ``.venv/bin/python tools/diagram.py cdk.out/mmbatch-efs.template.json
[--readme README.md] [--page docs/architecture.md]``. Without either option the detailed diagram is printed;
``--readme`` replaces the block between the file's ``<!-- diagram:start -->`` and ``<!-- diagram:end -->``
markers with the overview (one box per top-level construct), ``--page`` that block of a documentation page
with the detailed diagram. tests/packaging/test_diagram.py checks that both blocks are what this draws from a
fresh synth.

The picture is derived, not drawn. The ``tree.json`` that CDK writes beside the template names each
resource's logical id and construct path; each subgraph is one top-level construct of the stack, and each
box is named by its path inside it. An arrow ``A --> B`` means A refers to B (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``). To keep it readable:

- route tables, routes and the internet gateway attachment are left out, and so are references to the VPC
  and its subnets (they say where a resource sits, not what it uses), CDK's own custom-resource providers (construct ids ``Custom::...``) and what
  tree.json gives no logical id (custom resources, CDK metadata);
- an IAM policy becomes arrows from its roles to the resources it names, and an instance profile stands
  for its role;
- a security-group ingress rule becomes an arrow from the source group to the group it opens, labelled
  with its port.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

START = "<!-- diagram:start -->"
END = "<!-- diagram:end -->"

LEFT_OUT = {
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPCGatewayAttachment",
}
"""Resource types that are plumbing, not architecture."""

FOLDED = {"AWS::IAM::Policy", "AWS::IAM::InstanceProfile", "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"}
"""Resource types drawn as arrows or as another resource (see :func:`edges`), not as boxes."""

PLACEMENT = {"AWS::EC2::VPC", "AWS::EC2::Subnet"}
"""Drawn as boxes, but references to them are not: they say where a resource sits, not what it uses."""

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(node: Any, names: set[str]) -> set[str]:
    """Logical ids among ``names`` that ``node`` refers to with Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found |= {target} & names
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= set(_SUB_NAME.findall(text)) & names
                if isinstance(value, list):
                    found |= references(value[1], names)
            else:
                found |= references(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= references(item, names)
    return found


def placement(tree: dict[str, Any], stack_name: str) -> dict[str, tuple[str, str]]:
    """For each logical id in tree.json: its top-level construct and its name inside it.

    CDK's own custom-resource providers (construct ids ``Custom::...``) are left out.
    """
    found: dict[str, tuple[str, str]] = {}

    def walk(node: dict[str, Any], group: str, names: list[str]) -> None:
        logical_id = node.get("attributes", {}).get("aws:cdk:cloudformation:logicalId")
        if logical_id:
            shown = [n for n in names if n not in ("Resource", "Default")]
            found[logical_id] = (group, "/".join(shown) or group)
        for child_id, child in node.get("children", {}).items():
            walk(child, group, [*names, child_id])

    def groups(node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for group, child in node.get("children", {}).items():
            if group == "Default":  # hidden from logical ids (the stack's MmBatchDeployment): its children are top level
                yield from groups(child)
            elif "::" not in group:
                yield group, child

    for group, child in groups(tree["tree"]["children"][stack_name]):
        walk(child, group, [])
    return found


def edges(resources: dict[str, Any], shown: set[str]) -> Iterator[tuple[str, str, str]]:
    """(from, to, label) arrows between shown resources, with policies, profiles and ingress rules folded in."""
    names = set(resources)
    profiles = {
        name: sorted(references(r["Properties"].get("Roles", []), names))
        for name, r in resources.items() if r["Type"] == "AWS::IAM::InstanceProfile"
    }

    def targets(node: Any) -> set[str]:
        found = set()
        for target in references(node, names):
            found |= set(profiles.get(target, [target]))
        return {t for t in found if t in shown and resources[t]["Type"] not in PLACEMENT}

    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            for role in sorted(targets(props.get("Roles", []))):
                for target in sorted(targets(props.get("PolicyDocument", {})) - {role}):
                    yield role, target, ""
        elif resource["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            ports = sorted({props.get("FromPort"), props.get("ToPort")} - {None})
            port = f"{props.get('IpProtocol', '')} {'-'.join(str(p) for p in ports)}".strip()
            peer = "SourceSecurityGroupId" if "Ingress" in resource["Type"] else "DestinationSecurityGroupId"
            for source in sorted(targets(props.get(peer, {}))):
                for group in sorted(targets(props.get("GroupId", {}))):
                    yield source, group, port
        elif name in shown:
            for target in sorted(targets(props) - {name}):
                yield name, target, ""


def diagram(template: dict[str, Any], places: dict[str, tuple[str, str]]) -> str:
    """The Mermaid flowchart of ``template``, one subgraph per top-level construct (``places``: see placement)."""
    resources: dict[str, Any] = template["Resources"]
    members: dict[str, list[str]] = {}
    for name, resource in resources.items():
        if name in places and resource["Type"] not in LEFT_OUT | FOLDED:
            members.setdefault(places[name][0], []).append(name)
    shown = {name for names in members.values() for name in names}

    lines = ["flowchart LR"]
    for group, names in members.items():
        lines.append(f"  subgraph {re.sub(r'[^A-Za-z0-9]', '', group)}Group[{group}]")
        for name in sorted(names, key=lambda n: places[n][1]):
            type_ = resources[name]["Type"].removeprefix("AWS::")
            lines.append(f'    {name}["{places[name][1]}<br/><small>{type_}</small>"]')
        lines.append("  end")
    for source, target, text in sorted(set(edges(resources, shown))):
        lines.append(f"  {source} -->|{text}| {target}" if text else f"  {source} --> {target}")
    return "\n".join(lines) + "\n"


def overview(template: dict[str, Any], places: dict[str, tuple[str, str]]) -> str:
    """The diagram of ``template`` with one box per top-level construct: an arrow between two boxes stands for
    the arrows of :func:`diagram` between their resources (labelled with their ports, if any)."""
    resources: dict[str, Any] = template["Resources"]
    shown = {name for name, r in resources.items() if name in places and r["Type"] not in LEFT_OUT | FOLDED}
    groups = list(dict.fromkeys(places[name][0] for name in resources if name in shown))
    links: dict[tuple[str, str], set[str]] = {}
    for source, target, text in edges(resources, shown):
        pair = (places[source][0], places[target][0])
        if pair[0] != pair[1]:
            links.setdefault(pair, set()).update({text} - {""})

    def node(group: str) -> str:
        return re.sub(r"[^A-Za-z0-9]", "", group)

    lines = ["flowchart LR", *(f"  {node(g)}[{g}]" for g in groups)]
    for (source, target), texts in sorted(links.items()):
        label = f"|{', '.join(sorted(texts))}|" if texts else ""
        lines.append(f"  {node(source)} -->{label} {node(target)}")
    return "\n".join(lines) + "\n"


def readme_block(mermaid: str) -> str:
    """The text between the markers: the diagram in a fenced block that GitHub and the site render."""
    return f"{START}\n```mermaid\n{mermaid}```\n{END}"


def replace_block(readme: str, mermaid: str) -> str:
    """``readme`` with the text between the markers replaced by ``mermaid``."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"no {START} ... {END} block")
    return pattern.sub(lambda _: readme_block(mermaid), readme, count=1)


def from_assembly(template_path: Path, *, detailed: bool = True) -> str:
    """The diagram (``detailed``) or the overview of a template in a cloud assembly (tree.json beside it)."""
    template = json.loads(template_path.read_text())
    tree = json.loads((template_path.parent / "tree.json").read_text())
    stack_name = template_path.name.removesuffix(".template.json")
    if stack_name not in tree["tree"]["children"]:
        raise SystemExit(f"{template_path} is not from the last synth in {template_path.parent} (its tree.json has "
                         f"{', '.join(sorted(tree['tree']['children']))}); synthesize again into an empty directory")
    places = placement(tree, stack_name)
    return diagram(template, places) if detailed else overview(template, places)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("template", type=Path, help="a synthesized template in a cloud assembly (cdk.out)")
    parser.add_argument("--readme", type=Path, help="replace the diagram block of this README with the overview")
    parser.add_argument("--page", type=Path, help="replace the diagram block of this page with the detailed diagram")
    options = parser.parse_args()

    if options.readme is None and options.page is None:
        print(from_assembly(options.template), end="")
        return 0
    for path, detailed in ((options.readme, False), (options.page, True)):
        if path is not None:
            path.write_text(replace_block(path.read_text(), from_assembly(options.template, detailed=detailed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

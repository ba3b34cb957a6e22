"""Validation rules shared by the settings (config.py) and the constructs: each rule is written once.

A rule returns its problems worded without a name; the caller puts the setting's key (``instanceTypes: ...``)
or the construct's path and prop (``mmbatch-efs/Compute: instance_types: ...``) in front, so a user reads
the same sentence either way.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

from constructs import Construct

from .durations import duration_seconds, format_seconds, is_duration
from .instance_types import BATCH_KEYWORDS, GPU_FAMILIES, architecture, family, gpu_count, gpu_model, is_gpu

__all__ = [
    "GP3_MAX_GIB",
    "duration_problem",
    "instance_type_problems",
    "raise_problems",
    "root_volume_problem",
    "vcpu_problem",
    "whole_number_problem",
]

GP3_MAX_GIB = 16384
"""Largest gp3 volume, in GiB (EBS volume types: gp3 volumes are 1 GiB to 16 TiB; the EC2 API reference's
``LaunchTemplateEbsBlockDeviceRequest.VolumeSize``: "gp2 and gp3: 1 - 16,384 GiB")."""


def instance_type_problems(types: Sequence[str]) -> list[str]:
    """What AWS Batch, the AL2023 ECS image or MMBatch would reject in one queue's instance types."""
    if not types:
        return ["must name at least one instance type or family"]
    problems = []
    arches = {t: architecture(t) for t in types}
    if len(set(arches.values())) > 1:
        listed = ", ".join(f"{t} ({a})" for t, a in arches.items())
        problems.append(
            f"mixes CPU architectures ({listed}); checkpoints restore only onto the architecture they were taken "
            "on, so list one architecture per queue"
        )
    if any(family(t) == "a1" for t in types):
        problems.append(
            "a1 is not supported by the Amazon Linux 2023 ECS image the nodes run (AWS Batch: \"Amazon Linux 2023 "
            "does not support A1 instances\"); use a newer Graviton family such as m7g"
        )
    gpus = [t for t in types if is_gpu(t)]
    if gpus:
        problems += _gpu_problems(types, gpus)
    return problems


def _gpu_problems(types: Sequence[str], gpus: Sequence[str]) -> list[str]:
    supported = ", ".join(f"{f} ({model})" for f, (model, _) in GPU_FAMILIES.items())
    problems = []
    others = [t for t in types if t not in gpus]
    if others:
        problems.append(
            f"mixes GPU types ({', '.join(gpus)}) with CPU types ({', '.join(others)}); a queue's nodes boot one "
            "image (the NVIDIA one for GPUs), so give GPU types a queue of their own"
        )
    unknown = [t for t in gpus if gpu_model(t) is None]
    if unknown:
        problems.append(
            f"{', '.join(unknown)}: not an NVIDIA x86_64 GPU family mmbatch-cdk supports; supported: {supported}"
        )
    bare = [t for t in gpus if "." not in t and gpu_model(t)]
    if bare:
        problems.append(
            f"{', '.join(bare)}: a bare GPU family lets AWS Batch launch multi-GPU sizes, and MMBatch checkpoints "
            "single-GPU instances only; list single-GPU sizes such as g5.xlarge"
        )
    multi = [t for t in gpus if "." in t and gpu_model(t) and gpu_count(t) is None]
    if multi:
        one = "; ".join(f"{f}: {', '.join(s)}" for f, (_, s) in GPU_FAMILIES.items() if any(family(t) == f for t in multi))
        problems.append(
            f"{', '.join(multi)}: more than one GPU, and MMBatch checkpoints single-GPU instances only "
            f"(single-GPU sizes: {one})"
        )
    models = {t: gpu_model(t) for t in gpus if gpu_model(t)}
    if len(set(models.values())) > 1:
        listed = ", ".join(f"{t} ({m})" for t, m in models.items())
        problems.append(
            f"mixes GPU models ({listed}); a GPU checkpoint restores only onto the same model, so list one model per queue"
        )
    return problems


def vcpu_problem(low: int, high: int, low_name: str, high_name: str) -> Optional[str]:
    """The minimum above the maximum, or None."""
    if low > high:
        return f"{low} is greater than {high_name} ({high}); expected {low_name} <= {high_name}"
    return None


def duration_problem(text: str, minimum_s: int, maximum_s: int) -> Optional[str]:
    """``text`` is not a Go duration between the bounds, or None. The examples given are the bounds themselves."""
    if is_duration(text) and minimum_s <= duration_seconds(text) <= maximum_s:
        return None
    low, high = format_seconds(minimum_s), format_seconds(maximum_s)
    return f"{text!r} is not accepted; expected a duration from {low} to {high}, such as {low} or {high} (units s, m, h)"


def root_volume_problem(root_gib: int, cache_gib: int) -> Optional[str]:
    """A root volume that, with the storage client's cache, is larger than gp3 allows; or None."""
    if root_gib + cache_gib > GP3_MAX_GIB:
        return (
            f"{root_gib} GiB plus {cache_gib} GiB of storage cache makes a {root_gib + cache_gib} GiB root volume, "
            f"over gp3's limit of {GP3_MAX_GIB} GiB (16 TiB)"
        )
    return None


def whole_number_problem(value: object, bounds: tuple[int, int], unit: str) -> Optional[str]:
    """``value`` is not a whole number of ``unit`` within ``bounds`` (a bool is not one), or None."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"{value!r} is not accepted; expected whole {unit} from {low} to {high}"
    return None


def raise_problems(scope: Construct, prop: str, problems: Iterable[Optional[str]]) -> None:
    """Raise ``ValueError("<path>: <prop>: <problem>; ...")`` for a construct prop when there are problems."""
    found = [p for p in problems if p]
    if found:
        raise ValueError(f"{scope.node.path}: {prop}: " + "; ".join(found))


KEYWORDS = tuple(BATCH_KEYWORDS)
"""AWS Batch's instance-type keywords (``optimal``, ``default_x86_64``, ``default_arm64``)."""

"""Value parsers: each turns a raw value (text from ``-c key=value``, a JSON type from ``cdk.json``) into a valid
one or raises :class:`_Invalid` saying what is accepted. The settings table (:mod:`.table`) names one per setting.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any, Callable, Optional

from .. import rules
from ..container_image import container_image_problem
from ..cost import tag_problem, tags_problem
from ..job_definition import spot_attempts_problem
from ..package_source import package_source_problem
from ..storage.juicefs import MEMORYDB_NODE_TYPES
from ..workspace import bucket_name_problem, parse_input_location


class _Invalid(ValueError):
    """Raised by a parser; the message says what is accepted."""


_SUBNET_RE = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZ_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+[a-z]$")
"""An availability zone name such as us-east-1a or us-gov-west-1b (not a zone id such as use1-az1)."""
_VPC_RE = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SG_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
_PREFIX_RE = re.compile(r"^(?=.{1,20}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SIZE = r"(nano|micro|small|medium|large|xlarge|([2-9]|[1-9][0-9]+)xlarge|metal(-[1-9][0-9]*xl)?)"
"""EC2 size names (nano ... 48xlarge, metal, metal-24xl)."""
_INSTANCE_TYPE_RE = re.compile(rf"^([a-z][a-z0-9-]*[0-9][a-z0-9-]*(\.{_SIZE})?|optimal|default_x86_64|default_arm64)$")
_SIZED_TYPE_RE = re.compile(rf"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.{_SIZE}$")
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_KEY_NAME_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
_KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/mrk-[0-9a-f]{32}$")
_ARCH_NAMES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid(f"{value!r} is not a text value")
    return str(value).strip()


def _pattern(regex: re.Pattern[str], accepted: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if not regex.match(text):
            raise _Invalid(f"{text!r} is not accepted; expected {accepted}")
        return text

    return parse


def _image(example: str) -> Callable[[Any], str]:
    """A container image (container_image.container_image_problem); ``example`` is shown when one is refused."""
    def parse(value: Any) -> str:
        text = _text(value)
        problem = container_image_problem(text, example)
        if problem:
            raise _Invalid(problem)
        return text

    return parse


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value).lower()
        if text not in choices:
            raise _Invalid(f"{value!r} is not accepted; expected one of: {', '.join(choices)}")
        return text

    return parse


def _choice_int(*choices: int) -> Callable[[Any], int]:
    accepted = ", ".join(map(str, choices))
    whole = _integer(min(choices), max(choices))

    def parse(value: Any) -> int:
        number = whole(value)
        if number not in choices:
            raise _Invalid(f"{number} is not accepted; expected one of: {accepted}")
        return number

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower() if isinstance(value, str) else ""
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise _Invalid(f"{value!r} is not accepted; expected true or false")


_INT32_MAX = 2**31 - 1
"""The largest value of an AWS API ``Integer`` (Smithy's integer: a 32-bit signed integer), such as AWS Batch's
``ComputeResource`` minvCpus and maxvCpus (AWS Batch API Reference, "Type: Integer")."""


_WHOLE_TEXT = re.compile(r"\s*-?[0-9]+\s*")
"""A whole number as text: ASCII digits only (int() would also take other scripts' digits and underscores)."""
_DECIMAL_TEXT = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*")
"""A decimal as text, such as 12, 12.5, .5 or +5; no exponent."""

def _integer(minimum: int, maximum: Optional[int] = None) -> Callable[[Any], int]:
    bounds = f"a whole number >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and _WHOLE_TEXT.fullmatch(value):
            number = int(value)
        else:
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}")
        if number < minimum or (maximum is not None and number > maximum):
            raise _Invalid(f"{number} is out of range; expected {bounds}")
        return number

    return parse


def _parts(text: str, what: str) -> list[str]:
    """The comma-separated parts of ``text``; an empty part is refused: on the command line it is what is left when
    an unquoted space after a comma ended the value there (``-c instanceTypes=m6i.large, c6i.large``)."""
    parts = [p.strip() for p in text.split(",")]
    if "" in parts:
        raise _Invalid(f"{text!r} has an empty item; expected a comma-separated list of {what} (on the command line, "
                       "a space after a comma ends the value: quote it, as in -c 'key=a, b')")
    return parts


def _items(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return _parts(value, what)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise _Invalid(f"{value!r} is not accepted; expected a comma-separated list of {what}")


def _list_of(item: Callable[[Any], str], what: str, *, min_items: int = 1) -> Callable[[Any], tuple[str, ...]]:
    def parse(value: Any) -> tuple[str, ...]:
        raw = _items(value, what)
        if len(raw) < min_items:
            raise _Invalid(f"expected at least {min_items} of {what}, got {len(raw)}")
        items = []
        bad = []
        for entry in raw:
            try:
                items.append(item(entry))
            except _Invalid:
                bad.append(repr(entry))
        if bad:
            raise _Invalid(f"{', '.join(bad)} not accepted; expected a comma-separated list of {what}")
        return _once_each(items)

    return parse


def _once_each(items: list[str]) -> tuple[str, ...]:
    """``items``, refusing any listed twice (a repeat is a typo for another item more often than not)."""
    duplicates = sorted({i for i in items if items.count(i) > 1})
    if duplicates:
        raise _Invalid(f"{', '.join(duplicates)} listed more than once")
    return tuple(items)


def _cidr(value: Any) -> str:
    text = _text(value)
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise _Invalid(f"{text!r} is not accepted; expected a CIDR block such as 203.0.113.0/24") from None
    if network.prefixlen == 0:
        raise _Invalid(f"{text!r} would open the management server to the whole internet; give your own address range")
    widest = 16 if network.version == 4 else 32
    if network.is_global and network.prefixlen < widest:
        raise _Invalid(
            f"{text!r} spans {network.num_addresses:,} public addresses, far more than one organisation owns; "
            f"give your own range (a /{widest} or narrower)"
        )
    return str(network)


def _duration(minimum_s: int, maximum_s: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        problem = rules.duration_problem(text, minimum_s, maximum_s)
        if problem:
            raise _Invalid(problem)
        return text

    return parse


def _checksums(value: Any) -> dict[str, str]:
    """``<sha256>`` (every architecture) or ``amd64:<sha256>,arm64:<sha256>``."""
    text = _text(value)
    accepted = "64 lowercase hex digits, or one per architecture as amd64:<sha256>,arm64:<sha256>"
    if _SHA256_RE.match(text):
        return {"*": text}
    found: dict[str, str] = {}
    for part in _parts(text, "amd64:<sha256>,arm64:<sha256>"):
        arch, _, digest = part.partition(":")
        if arch.strip() not in _ARCH_NAMES or not _SHA256_RE.match(digest.strip()):
            raise _Invalid(f"{part!r} is not accepted; expected {accepted}")
        if _ARCH_NAMES[arch.strip()] in found:
            raise _Invalid(f"{_ARCH_NAMES[arch.strip()]} is given more than once ({arch.strip()!r}); expected one checksum "
                           "per architecture")
        found[_ARCH_NAMES[arch.strip()]] = digest.strip()
    if not found:
        raise _Invalid(f"{text!r} is not accepted; expected {accepted}")
    return found


def _minutes_or_never(low: int, high: int) -> Callable[[Any], Optional[int]]:
    def parse(value: Any) -> Optional[int]:
        if isinstance(value, str) and value.strip().lower() == "never":
            return None
        try:
            return _integer(low, high)(value)
        except _Invalid:
            raise _Invalid(f"{value!r} is not accepted; expected whole minutes from {low} to {high}, or never") from None

    return parse


def _package_source(what: str, placeholders: str, *, dnf: bool = False) -> Callable[[Any], str]:
    """A download source (package_source.package_source_problem) of ``what``, or ``dnf`` if ``dnf``; a bad bucket
    name is named as such."""
    def parse(value: Any) -> str:
        text = _text(value)
        problem = None if dnf and text == "dnf" else package_source_problem(text)
        if problem is None:
            return text
        if "bucket" in problem:
            raise _Invalid(problem)
        raise _Invalid(f"{text!r} is not accepted; expected {'dnf (nodes only), ' if dnf else ''}an https:// URL or an "
                       f"s3://bucket/key URI of {what}" + (f", optionally containing {placeholders}" if placeholders else ""))

    return parse


_install_source = _package_source("the MMAB installer", "{version}")
_client_source = _package_source("the JuiceFS tarball", "{version} and {arch} (amd64 or arm64)")
_agent_source = _package_source("the CloudWatch agent package", "{arch} (amd64 or arm64)", dnf=True)


def _or_none(parse: Callable[[Any], str]) -> Callable[[Any], Optional[str]]:
    """``parse``, and the word ``none`` for no value."""
    def parse_or_none(value: Any) -> Optional[str]:
        return None if _text(value).lower() == "none" else parse(value)

    return parse_or_none


def _number(minimum: float, maximum: Optional[float] = None, *, above: bool = False) -> Callable[[Any], float]:
    bounds = f"a number {'>' if above else '>='} {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")

    def parse(value: Any) -> float:
        # Text as a plain decimal: float() would also take "1e-300", "1_000" and other scripts' digits ("١٠٠").
        if isinstance(value, bool) or (isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value)):
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}, written as a plain decimal such as 12.5")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an integer past any float, such as 10**400
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}, a finite number") from None
        if not math.isfinite(number):  # JSON, and so a template, has no Infinity or NaN
            raise _Invalid(f"{value!r} is not accepted; expected {bounds}, a finite number")
        if not (number > minimum if above else number >= minimum) or (maximum is not None and number > maximum):
            raise _Invalid(f"{value!r} is out of range; expected {bounds}")
        return number

    return parse


def _email(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise _Invalid(f"{text!r} is not accepted; expected an email address such as ops@example.org")
    return text


def _tag_map(value: Any) -> dict[str, str]:
    """``{"team": "genomics"}`` from cdk.json, or ``team=genomics,project=rnaseq`` from the command line."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for part in _parts(value, "key=value pairs"):
            key, sep, tag_value = part.partition("=")
            if not sep:
                raise _Invalid(f"{part!r} is not accepted; expected key=value pairs such as team=genomics,project=rnaseq")
            pairs.append((key.strip(), tag_value.strip()))
    else:
        raise _Invalid(f"{value!r} is not accepted; expected a JSON object or key=value pairs such as team=genomics")
    tags: dict[str, str] = {}
    for key, tag_value in pairs:
        problem = tag_problem(key, tag_value)
        if problem:
            raise _Invalid(problem)
        if key in tags:
            raise _Invalid(f"tag {key!r} is given more than once ({tags[key]!r}, {tag_value!r}); give each key once")
        tags[key] = tag_value
    problem = tags_problem(tags)
    if problem:
        raise _Invalid(problem)
    return tags


def _spot_attempts(value: Any) -> int:
    """The job definition's own rule (:func:`~mmbatch_cdk.job_definition.spot_attempts_problem`), in its words."""
    if isinstance(value, str) and _WHOLE_TEXT.fullmatch(value):
        value = int(value)
    problem = spot_attempts_problem(value)
    if problem:
        raise _Invalid(problem)
    return int(value)


def _memorydb_node_type(value: Any) -> str:
    text = _text(value)
    if text in MEMORYDB_NODE_TYPES:
        return text
    if text.startswith("db.r6gd."):
        raise _Invalid(f"{text!r} is a data-tiering node type, which needs data tiering on; mmbatch-cdk does not turn it on")
    raise _Invalid(f"{text!r} is not a MemoryDB node type; expected one of: {', '.join(MEMORYDB_NODE_TYPES)}")


def _bucket_name(value: Any) -> str:
    text = _text(value)
    problem = bucket_name_problem(text)
    if problem:
        raise _Invalid(problem)
    return text


def _input_location(value: Any) -> str:
    try:
        return str(parse_input_location(_text(value)))
    except ValueError as err:
        raise _Invalid(str(err)) from None


_INSTANCE_TYPES = _list_of(_pattern(_INSTANCE_TYPE_RE, "instance types"),
                           "instance types or families such as m6i.large or c7i, or optimal, default_x86_64, default_arm64")

"""Every setting of the mmbatch-cdk app, declared once, read once from CDK context and validated.

Nothing else in the project reads context. :data:`SETTINGS` declares each setting once: its key, parser,
default, help, seed parameter, where it applies (a backend, the single queue or each of the three
queues) and the construct prop it sets. :meth:`MmBatchConfig.from_mapping` collects every problem before
it raises, so a user sees all of their mistakes in one message; settings that are valid but have no effect
in the chosen mode become warnings that name them.

Values arrive as strings from ``cdk synth -c key=value`` and as JSON types from ``cdk.json``; every parser
accepts both.

Four files, read in this order: :mod:`.table` (the settings), :mod:`.parsers` (what each value accepts),
:mod:`.checks` (what settings must agree on), and this one (:class:`MmBatchConfig`, which reads, parses and checks
them); :mod:`.errors` holds what the user sees.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..compute import DEFAULT_INSTANCE_TYPES
from ..durations import duration_seconds
from ..multi_queue import DEFAULT_QUEUES, QueueSpec
from .checks import _cross_checks, _unknown_keys, _warnings
from .errors import ConfigError, ConfigWarning
from .parsers import _Invalid
from .table import _BY_KEY, _PROFILE_DEFAULTS, _SINGLE_QUEUE, SETTINGS, Setting

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "DEFAULT_INSTANCE_TYPES",
    "MmBatchConfig",
    "SETTINGS",
    "Setting",
    "duration_seconds",
]


@dataclass(frozen=True)
class MmBatchConfig:
    """The validated settings of one deployment. Build it with :meth:`from_mapping` or :meth:`from_context`.

    Read a setting as an attribute (``config.max_vcpus``) or by key (``config["maxvCpus"]``); read what a
    construct takes with :meth:`props`.
    """

    values: Mapping[str, Any] = field(default_factory=lambda: {s.key: s.default for s in SETTINGS})
    given: frozenset[str] = frozenset()
    warnings: tuple[ConfigWarning, ...] = field(default=(), compare=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __getattr__(self, name: str) -> Any:
        for setting in SETTINGS:
            if setting.attr == name:
                return self.values[setting.key]
        raise AttributeError(name)

    @classmethod
    def from_context(cls, node: Any) -> "MmBatchConfig":
        """Read every setting from a construct node's context (``app.node``)."""
        return cls.from_mapping(dict(node.get_all_context() or {}))

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> "MmBatchConfig":
        """Validate a mapping of context keys to raw values; raise :class:`ConfigError` listing every problem."""
        problems = _unknown_keys(context)
        values: dict[str, Any] = {}
        unparsed: set[str] = set()
        for setting in SETTINGS:
            if not _given(context, setting.key):
                values[setting.key] = setting.default
                continue
            try:
                values[setting.key] = setting.parse(_not_empty(context[setting.key], setting))
            except _Invalid as err:
                values[setting.key] = setting.default
                unparsed.add(setting.key)
                problems.append(f"{setting.key}: {err}")
        for key, value in _PROFILE_DEFAULTS.get(values["compliance"], {}).items():
            if not _given(context, key):
                values[key] = value
        given = frozenset(key for key in _BY_KEY if _given(context, key))
        config = cls(values, given)
        # A setting that did not parse holds its default here; a check that read it would speak of a value the user
        # did not pass, so only what names no such setting is kept (its own message already stops synth).
        problems.extend(p for p in _cross_checks(config) if not _names_any(p, unparsed))
        if problems:
            raise ConfigError(problems)
        notes = [w for w in _warnings(config) if w.id not in values["acknowledge"]]
        return dataclasses.replace(config, warnings=tuple(notes))

    def applies(self, setting: Setting) -> bool:
        """True when ``setting`` has an effect with this backend and queue mode."""
        if setting.backend is not None and setting.backend != self.values["backend"]:
            return False
        if setting.queue is not None and (setting.queue == 0) == self.values["multiQueue"]:
            return False
        return True

    def props(self, target: str) -> dict[str, Any]:
        """Keyword arguments for ``target`` (see :class:`Setting` for the targets): one per
        prop that a setting applying here sets; props no setting sets keep the construct's own defaults."""
        found: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.queue is not None or not self.applies(setting):
                continue
            for prop in setting.props:
                name, _, attr = prop.partition(".")
                if name == target:
                    value = self.values[setting.key]
                    found[attr] = setting.to_prop(value) if setting.to_prop and value is not None else value
        return found

    @property
    def queues(self) -> tuple[QueueSpec, ...]:
        """The job queues: the single queue (name ``""``) or, with ``multiQueue``, Jq1-Jq3."""
        if not self.values["multiQueue"]:
            specs, index = [_SINGLE_QUEUE], [0]
        else:
            specs, index = list(DEFAULT_QUEUES), [1, 2, 3]
        return tuple(
            dataclasses.replace(spec, **{s.props[0].partition(".")[2]: self.values[s.key] for s in SETTINGS if s.queue == n})
            for spec, n in zip(specs, index)
        )

    @property
    def installs_aws_cli(self) -> bool:
        """True when nodes install the AWS CLI and Cromwell's fetch-and-run script (``awsCli``)."""
        return bool(self.values["awsCli"])

    @property
    def builds_head_queue(self) -> bool:
        """True when the head-job queue is built: ``headQueue`` and ``workspace`` (with workspace off it is left out)."""
        return bool(self.values["headQueue"] and self.values["workspace"])

    @property
    def uses_existing_vpc(self) -> bool:
        """True when ``vpcId`` was given."""
        return self.values["vpcId"] is not None

    @property
    def acknowledged(self) -> tuple[str, ...]:
        """Annotation ids (``mmbatch:...``) the user accepted with ``acknowledge``."""
        return tuple(f"mmbatch:{ack}" for ack in self.values["acknowledge"])


def _given(context: Mapping[str, Any], key: str) -> bool:
    return context.get(key) is not None


def _not_empty(raw: Any, setting: Setting) -> Any:
    """``raw``, unless it is empty text (``-c key=``), which is refused rather than read as the default."""
    if isinstance(raw, str) and raw.strip() == "":
        default = setting.default
        shown = ("none" if default in (None, (), {}) else ",".join(default) if isinstance(default, tuple)
                 else str(default).lower() if isinstance(default, bool) else default)
        raise _Invalid(f"the value is empty; give a value, or leave {setting.key} out for its default ({shown})")
    return raw


def _names_any(problem: str, keys: set[str]) -> bool:
    """True when ``problem`` is about, or mentions, one of ``keys``."""
    return any(re.search(rf"(^|[^A-Za-z0-9]){re.escape(key)}([^A-Za-z0-9]|$)", problem) for key in keys)

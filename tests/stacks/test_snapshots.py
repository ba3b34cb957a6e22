"""Snapshots of each stack variant. A diff here is read, then accepted with --snapshot-update."""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from ..conftest import CONFIGS


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_template_matches_snapshot(synth, snapshot_json, name: str) -> None:
    assert synth(name).template == snapshot_json

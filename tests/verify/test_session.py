"""The user's credential chain: without credentials or a region the command could not run (exit 2), with a message."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from mmbatch_cdk.verify.cli import main


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws")
def test_no_credentials_could_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--stack", "mmbatch", "--json"]) == 2
    (step,) = json.loads(capsys.readouterr().out)["steps"]
    assert step["outcome"] == "could-not-run"
    assert step["summary"].startswith("no AWS credentials found")


@pytest.mark.usefixtures("no_aws")
def test_no_region_could_not_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert main(["verify", "--stack", "mmbatch"]) == 2
    assert "COULD-NOT-RUN  stack    no AWS region: pass --region" in capsys.readouterr().out


@pytest.mark.usefixtures("no_aws")
def test_unknown_profile_could_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--stack", "mmbatch", "--profile", "nope", "--json"]) == 2
    assert "nope" in json.loads(capsys.readouterr().out)["steps"][0]["summary"]


@pytest.mark.usefixtures("no_aws")
def test_region_flag_gives_the_region_the_credential_chain_lacks(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``--region`` overrides the chain (docs/verify.md): with it, verify goes on to read the stack (moto's, here)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        assert main(["verify", "--stack", "mmbatch", "--region", "eu-west-1", "--json"]) == 2
    (step,) = json.loads(capsys.readouterr().out)["steps"]
    assert step["summary"] == "stack mmbatch: Stack with id mmbatch does not exist"

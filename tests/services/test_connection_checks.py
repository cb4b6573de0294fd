"""What is checked before a connection's settings are saved, and the service-account key file read for the keychain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gemtune_desktop.core.errors import UserError
from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile, check_profile, normalize_bucket
from gemtune_desktop.services.secrets import SecretState, client_email, read_service_account_file


def cloud(project: str = "", bucket: str = "") -> ConnectionProfile:
    return ConnectionProfile(kind=ConnectionKind.AGENT_PLATFORM, project=project, bucket=bucket)


def test_bucket_names_lose_the_gs_prefix_and_paths() -> None:
    assert normalize_bucket(" gs://my-bucket/data/ ") == "my-bucket"
    assert normalize_bucket("plain") == "plain"


@pytest.mark.parametrize("profile, in_use, field", [
    (cloud("My Project"), False, "project"),
    (cloud("my-project", "Bad_Bucket!"), False, "bucket"),
    (cloud(), True, "project"),  # the connection in use needs a project
])
def test_cloud_profiles_are_refused_with_the_field_named(profile: ConnectionProfile, in_use: bool,
                                                         field: str) -> None:
    problem = check_profile(profile, in_use)
    assert problem is not None and problem.field == field and problem.message


def test_good_or_other_profiles_pass() -> None:
    assert check_profile(cloud("my-tuning-project", "my-tuning-data"), True) is None
    assert check_profile(cloud(), False) is None  # not in use: may stay empty
    assert check_profile(ConnectionProfile(kind=ConnectionKind.SANDBOX), True) is None


def test_service_account_files_are_checked_in_plain_words(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "private_key": "k", "client_email": "a@b.iam"}),
                   encoding="utf-8")
    assert client_email(read_service_account_file(str(key))) == "a@b.iam"
    other = tmp_path / "other.json"
    other.write_text("{}", encoding="utf-8")
    for path, words in ((str(other), "is not a service-account key"), ("", "Choose the service-account key file"),
                        (str(tmp_path / "missing.json"), "was not found")):
        with pytest.raises(UserError, match=words):
            read_service_account_file(path)


def test_secret_states_know_when_a_secret_is_there() -> None:
    assert SecretState.KEYRING.present and SecretState.SESSION.present
    assert not any(s.present for s in (SecretState.NONE, SecretState.BROKEN, SecretState.UNKNOWN))
    assert SecretState("keyring") is SecretState.KEYRING

"""API keys in URLs: redacted in messages we build, scrubbed from anything printed or logged."""

from __future__ import annotations

import logging

import pytest

from scanner.redact import MASK, ScrubFilter, redact_url, register_url, scrub

KEYED = "https://alice:Pa55word-xyz@eth.example:8443/v3/abcdef0123456789?apikey=QK-998877&x=1"


def test_redact_url_keeps_only_scheme_host_port() -> None:
    assert redact_url(KEYED) == "https://eth.example:8443/..."
    assert redact_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert redact_url("http://u:p@host:abc/key") == "<invalid URL>"


@pytest.mark.parametrize("secret", ["alice:Pa55word-xyz@", "Pa55word-xyz", "abcdef0123456789",
                                    "QK-998877", "/v3/abcdef0123456789", KEYED])
def test_scrub_hides_every_part_of_a_registered_url(secret: str) -> None:
    register_url(KEYED)
    text = f"aiohttp said: {secret} failed"
    assert secret not in scrub(text) and MASK in scrub(text)


def test_percent_encoded_key_is_scrubbed_in_both_forms() -> None:
    register_url("https://node.example/key%2Fwith%2Fslash123")
    assert "key/with/slash123" not in scrub("got key/with/slash123 back")
    assert "key%2Fwith%2Fslash123" not in scrub("url key%2Fwith%2Fslash123")


def test_plain_urls_and_database_file_names_are_not_secrets() -> None:
    register_url("http://127.0.0.1:9")
    register_url("sqlite:///liqscan-data.db", path_is_secret=False)
    register_url("postgresql+psycopg://me:dbsecret77@db/liqscan_prod", path_is_secret=False)
    text = "http://127.0.0.1:9 and liqscan-data.db and liqscan_prod"
    assert scrub(text) == text
    assert "dbsecret77" not in scrub("password dbsecret77 rejected")


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    register_url(KEYED)
    logger = logging.getLogger("test_redact")
    logger.addFilter(ScrubFilter())
    with caplog.at_level(logging.INFO):
        logger.info("retrying %s after %s", KEYED, "a timeout")
    assert "abcdef0123456789" not in caplog.text and "after a timeout" in caplog.text

"""The helpers every adapter reads replies with (providers/adapters/base.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from providers.adapters.errors import ProviderBadResponse, ProviderRejected
from providers.adapters.values import Record, records, to_flag, unique

from .conftest import API_KEY, PASSWORD, make_adapter


def test_record_reads_typed_fields_with_paths():
    item = Record({"id": 7, "price": "1,500", "name": "X", "flag": "1", "nested": {"n": "3"}}, "data[2]")

    assert item.ident("id") == "7"
    assert item.decimal("price") == Decimal(1500)
    assert item.text("name") == "X"
    assert item.flag("flag") is True
    assert item.record("nested").integer("n") == 3
    assert item.text("absent") == "" and item.decimal("absent", required=False) is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.decimal("absent"), r"data\[2\]\.absent: missing"),
        (lambda r: r.text("id"), r"data\[2\]\.id: expected text, got 7"),
        (lambda r: r.ident("list"), r"data\[2\]\.list: expected an id, got \[1\]"),
        (lambda r: r.ident("yes"), r"data\[2\]\.yes: expected an id, got True"),
        (lambda r: r.integer("half"), r"data\[2\]\.half: expected a whole number, got '1.5'"),
        (lambda r: r.flag("name"), r"data\[2\]\.name: expected true or false, got 'X'"),
        (lambda r: r.record("name"), r"data\[2\]\.name: expected an object, got 'X'"),
        (lambda r: r.records("name"), r"data\[2\]\.name: expected a list, got 'X'"),
    ],
)
def test_record_errors_name_the_field(call, message):
    item = Record({"id": 7, "list": [1], "yes": True, "half": "1.5", "name": "X"}, "data[2]")

    with pytest.raises(ProviderBadResponse, match=message):
        call(item)


def test_records_and_top_level_shape():
    assert [r.path for r in records([{}, {}], "data")] == ["data[0]", "data[1]"]
    with pytest.raises(ProviderBadResponse, match="reply: expected an object, got 'oops'"):
        Record("oops")
    with pytest.raises(ProviderBadResponse, match="data: missing"):
        records(None, "data")


@pytest.mark.parametrize(("value", "flag"), [(True, True), (0, False), ("true", True), ("0", False), ("no", False)])
def test_to_flag(value, flag):
    assert to_flag(value) is flag


def test_unique_keeps_first_order_and_drops_blanks():
    assert unique(["3", " 1", "3", "", "2", "1"]) == ["3", "1", "2"]


def test_mask_covers_url_encoded_secrets():
    adapter = make_adapter("virtusim")
    text = "?api_key=K3y-s3cret%2B%2F%3DZq9XW&password=p4ss+w0rd%26Rahasia raw=" + API_KEY + PASSWORD

    assert adapter._mask(text) == "?api_key=***&password=*** raw=******"


def test_reading_gives_bare_errors_the_provider_and_turns_stray_errors_into_bad_responses():
    adapter = make_adapter("smm_v2")
    response = requests.Response()
    response.status_code, response._content = 200, b'{"x": 1}'

    with pytest.raises(ProviderRejected) as caught, adapter.reading(response):
        raise ProviderRejected("Saldo tidak cukup")
    assert (caught.value.provider, caught.value.http_status, caught.value.body_excerpt) == (
        "smm_v2-test",
        200,
        '{"x": 1}',
    )

    with (
        pytest.raises(ProviderBadResponse, match=r"unexpected reply shape \(KeyError: 'y'\)"),
        adapter.reading(response),
    ):
        {"x": 1}["y"]

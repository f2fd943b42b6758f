"""cc_common.protoconv: enums <-> lower-case names, Timestamps <-> aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cc_common import protoconv
from cc_common.rules import merges
from customercenter.v2 import common_pb2, merge_pb2


def test_a_lower_case_name_maps_to_its_prefixed_enum_value_and_back():
    assert protoconv.enum_value(common_pb2.Market, "uk") == common_pb2.MARKET_UK
    assert protoconv.enum_name(common_pb2.Market, common_pb2.MARKET_UK) == "uk"
    number = protoconv.enum_value(merge_pb2.MergeStatus, "needs_legal_proof")
    assert number == merge_pb2.MERGE_STATUS_NEEDS_LEGAL_PROOF


def test_every_merge_state_of_the_shared_rules_has_an_enum_value():
    for status in merges.STATUSES:
        number = protoconv.enum_value(merge_pb2.MergeStatus, status)
        assert number != 0, status
        assert protoconv.enum_name(merge_pb2.MergeStatus, number) == status


@pytest.mark.parametrize("name", ["", "xx", "UNSPECIFIED", "unspecified"])
def test_an_empty_or_unknown_name_is_unspecified(name):
    assert protoconv.enum_value(common_pb2.Market, name) == 0


@pytest.mark.parametrize("number", [0, 99])
def test_unspecified_or_an_unknown_number_has_no_name(number):
    assert protoconv.enum_name(common_pb2.Market, number) == ""


def test_an_aware_datetime_round_trips_through_a_timestamp_in_utc():
    when = datetime(2026, 12, 2, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    message = merge_pb2.Merge(created_at=protoconv.timestamp(when))
    back = protoconv.to_datetime(message, "created_at")
    assert back == when and back.tzinfo == UTC
    assert protoconv.iso(message, "created_at") == "2026-12-02T08:30:05.123456+00:00"


def test_a_naive_datetime_is_taken_as_utc():
    message = merge_pb2.Merge(created_at=protoconv.timestamp(datetime(2026, 1, 2, 3, 4, 5)))
    assert protoconv.iso(message, "created_at") == "2026-01-02T03:04:05+00:00"


def test_an_unset_timestamp_is_none_and_an_empty_string():
    message = merge_pb2.Merge(completed_at=protoconv.timestamp(None))
    assert not message.HasField("completed_at")
    assert protoconv.to_datetime(message, "completed_at") is None
    assert protoconv.iso(message, "completed_at") == ""


def test_unix_seconds_round_trip_through_a_timestamp():
    message = protoconv.timestamp_from_unix(1_800_000_000.25)
    assert (message.seconds, message.nanos) == (1_800_000_000, 250_000_000)
    assert protoconv.unix_from_timestamp(message) == 1_800_000_000.25


def test_an_enum_without_an_unspecified_zero_value_is_refused():
    class Fake:
        class DESCRIPTOR:  # noqa: N801 - shaped like an enum descriptor
            full_name = "fake.Fake"
            values_by_number = {0: type("V", (), {"name": "FIRST"})}

    with pytest.raises(ValueError, match="UNSPECIFIED"):
        protoconv.enum_value(Fake, "first")


def test_iso_text_parses_to_a_timestamp_and_an_empty_one_to_none():
    message = merge_pb2.Merge(created_at=protoconv.parse_timestamp("2026-12-02T09:00:00Z"))
    assert protoconv.iso(message, "created_at") == "2026-12-02T09:00:00+00:00"
    assert protoconv.parse_timestamp("") is None

"""The plain rules of identity-service: throttling records and subject rules."""

from __future__ import annotations

from identity_service.domain.revocation import SubjectRule
from identity_service.domain.throttling import FailureRecord, LoginLimits, keys_for

LIMITS = LoginLimits(max_failures_per_account=2, window_seconds=60, lockout_seconds=30)


def test_a_record_locks_at_its_limit_and_counts_down_in_whole_seconds():
    record = FailureRecord()
    record.register_failure(100.0, max_failures=2, limits=LIMITS)
    assert record.seconds_locked(100.0) == 0
    record.register_failure(101.0, max_failures=2, limits=LIMITS)
    assert record.seconds_locked(101.0) == 30
    assert record.seconds_locked(130.5) == 1
    assert record.seconds_locked(131.0) == 0


def test_a_record_is_stale_only_when_unlocked_and_out_of_its_window():
    record = FailureRecord(failures=1, window_started_at=100.0)
    assert not record.is_stale(150.0, LIMITS)
    assert record.is_stale(160.0, LIMITS)


def test_an_attempt_without_a_client_address_counts_only_against_the_account():
    assert [k.scope for k in keys_for("customer", "100", "")] == ["customer"]
    assert [k.scope for k in keys_for("customer", "100", "192.0.2.1")] == ["customer", "address"]


def test_an_overlong_key_is_cut_to_the_column_size():
    assert len(keys_for("staff", "a" * 1000, "")[0].key) == 255


def test_a_bumped_rule_kills_every_earlier_generation():
    rule = SubjectRule("customer:1").bumped("keep").bumped()
    assert (rule.generation, rule.min_generation, rule.keep_jti) == (2, 2, "")

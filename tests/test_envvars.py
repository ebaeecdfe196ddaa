"""Whole-number settings from the environment: unset or blank gives the default, anything else is checked."""

from __future__ import annotations

import pytest

from paperlens.core.envvars import env_int
from paperlens.web.app import worker_threads
from paperlens.web.brief_worker import worker_count


def test_unset_and_blank_give_the_default_and_a_number_is_taken(monkeypatch):
    monkeypatch.delenv("PAPERLENS_TEST_N", raising=False)
    assert env_int("PAPERLENS_TEST_N", 7) == 7
    monkeypatch.setenv("PAPERLENS_TEST_N", "  ")
    assert env_int("PAPERLENS_TEST_N", 7) == 7
    monkeypatch.setenv("PAPERLENS_TEST_N", " 12 ")
    assert env_int("PAPERLENS_TEST_N", 7) == 12


@pytest.mark.parametrize("raw", ["four", "2.5", "-1", "0x10"])
def test_a_value_that_is_not_a_whole_number_in_range_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("PAPERLENS_TEST_N", raw)
    with pytest.raises(ValueError, match=r"PAPERLENS_TEST_N=.*whole number of at least 0"):
        env_int("PAPERLENS_TEST_N", 7)


def test_the_settings_that_read_it_refuse_a_typo_instead_of_using_their_default(monkeypatch):
    # PAPERLENS_CATALOG_WORKERS took "3 " or "three" for its default before; a thread count of 0 was made 1
    monkeypatch.setenv("PAPERLENS_CATALOG_WORKERS", "three")
    with pytest.raises(ValueError, match="PAPERLENS_CATALOG_WORKERS"):
        worker_count()
    monkeypatch.setenv("PAPERLENS_CATALOG_WORKERS", "0")
    assert worker_count() == 0  # 0: build in this process
    monkeypatch.setenv("PAPERLENS_WORKER_THREADS", "0")
    with pytest.raises(ValueError, match="PAPERLENS_WORKER_THREADS='0'"):
        worker_threads()

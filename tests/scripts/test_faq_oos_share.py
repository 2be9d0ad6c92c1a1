"""scripts/faq_oos_share.py: which texts it measures and how it counts."""

from __future__ import annotations

from types import ModuleType

from tests.helpers.scripts import load_script


def _module() -> ModuleType:
    return load_script("faq_oos_share")


def test_every_variant_of_every_entry_is_measured_with_its_entry() -> None:
    records = [
        {"key": "a", "category": "benefits", "variants": ["v1", "v2"], "near_misses": [{"text": "n"}]},
        {"key": "b", "category": "funeral", "variants": None},
    ]
    assert _module().variants(records) == [("v1", "a", "benefits"), ("v2", "a", "benefits")]


def test_the_share_counts_only_the_out_of_scope_intent() -> None:
    share = _module().out_of_scope_share(["out_of_scope", "nlu_fallback", "ask_benefits", "out_of_scope"])
    assert share == 0.5
    assert _module().out_of_scope_share([]) == 0.0

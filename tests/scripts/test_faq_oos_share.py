"""scripts/faq_oos_share.py: which texts it measures and how it counts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "faq_oos_share.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("faq_oos_share", SCRIPT)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["faq_oos_share"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


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

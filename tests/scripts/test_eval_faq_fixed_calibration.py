"""scripts/eval_faq.py ``--calibration``: a calibration printed by ``--calibrate`` on one fold seed
is read back exactly, to be measured on another seed's folds; nothing but a literal
``Calibration(...)`` is accepted."""

from __future__ import annotations

import pytest

from civil_affairs.faq.decision import DEFAULT_CALIBRATION, Calibration
from scripts.eval_faq import fixed_calibration


def test_the_printed_calibration_reads_back_equal() -> None:
    fitted = Calibration((-1.5, 3.9, 0.5, 1.3), -2.8, answer_probability=0.83, offer_score=-0.55)
    assert fixed_calibration(str(fitted)) == fitted
    assert fixed_calibration(repr(DEFAULT_CALIBRATION)) == DEFAULT_CALIBRATION


def test_fields_left_out_keep_their_defaults() -> None:
    read = fixed_calibration("Calibration(answer_probability=0.9)")
    assert read == Calibration(answer_probability=0.9)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "Calibration(coef=(1.0, 2.0))",  # not one coefficient per decision feature
        "Calibration((1.0, 2.0, 3.0, 4.0))",  # positional
        "Calibration(intercept=abs(-2))",  # not a literal
        "Decision(coef=(1.0, 2.0, 3.0, 4.0))",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        fixed_calibration(text)

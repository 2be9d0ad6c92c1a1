"""Personal numbers are masked wherever text leaves the conversation."""

from __future__ import annotations

import logging

import pytest

from civil_affairs.privacy import MaskingFilter, mask_name, mask_personal_data


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("身份证11010519491231002X", "身份证110***********002X"),
        ("身份证号 110105194912310021 谢谢", "身份证号 110***********0021 谢谢"),
        ("老号码110105491231002", "老号码110********1002"),
        ("电话13812345678", "电话138****5678"),
        ("电话 138 1234 5678", "电话 138****5678"),
        ("手机+86 138-1234-5678", "手机138****5678"),
        ("全角１３８１２３４５６７８", "全角138****5678"),
        ("座机0793-1234567", "座机0793****67"),
        ("编号DB2026100800211不是身份证", "编号DB2026100800211不是身份证"),
        ("预约号YY20261130-008", "预约号YY20261130-008"),
        ("", ""),
    ],
)
def test_mask_personal_data(raw: str, expected: str) -> None:
    assert mask_personal_data(raw) == expected


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张小三", "张*三"), ("欧阳娜娜", "欧**娜"), ("李", "李")]
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_log_filter_masks_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.privacy")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("resident %s called from %s", "11010519491231002X", "13812345678")
    assert "11010519491231002X" not in caplog.text
    assert "13812345678" not in caplog.text
    assert "110***********002X" in caplog.text and "138****5678" in caplog.text

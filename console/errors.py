"""Every error the console answers is short Chinese JSON with the right status, never a traceback.

FastAPI's own validation errors are English lists that echo the input back; a number too large for
the database (SQLite refuses integers past 2**63) used to end as a 500. Both are answered here.
JSON endpoints take a pydantic model; a model may declare an example object (``Config.schema_extra``),
which is then shown when the body is not a JSON object at all.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

INVALID_INPUT_TEXT = "请求内容格式不正确"
BAD_JSON_TEXT = "请求内容须为有效的 JSON"
BAD_JSON_EXAMPLE_TEXT = "请求内容须为 JSON，例如 {example}"
FIELD_TEXTS = {
    "missing": "缺少必填项",
    "type_error": "类型不对",
    "value_error": "取值不对",
}
NUMBER_TOO_LARGE_TEXT = "数字超出范围"
# Starlette's and FastAPI's own English answers, by status.
STATUS_TEXTS = {
    400: "请求内容无法解析",
    404: "页面或记录不存在",
    405: "不支持这种请求方式",
    413: "提交的内容太大",
    415: "不支持这种内容类型",
}
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
SERVER_ERROR_TEXT = "系统出了点问题，请稍后再试"
UNREADABLE_TEXT_TEXT = "内容里有无法识别的字符，请删除后重试"
OUT_OF_RANGE_TEXT = "内容超出允许的范围（数字太大或文字太长）"


def _field_name(loc: tuple) -> str:
    """``body.message`` → ``message``; the location kind (body/query/path) is dropped."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts)


def body_example(request: Request) -> Any:
    """The example object the route's body model declares, or None."""
    field = getattr(request.scope.get("route"), "body_field", None)
    config = getattr(getattr(field, "type_", None), "__config__", None)
    extra = getattr(config, "schema_extra", None)
    return extra.get("example") if isinstance(extra, dict) else None


def _not_an_object(error: dict[str, Any]) -> bool:
    """True when the body as a whole is wrong: not JSON, or JSON but not an object (``[1, 2]``, a form)."""
    kind = str(error.get("type", ""))
    whole = tuple(error.get("loc", ())) == ("body",) and kind.startswith("type_error")
    return whole or kind.startswith("value_error.jsondecode") or kind == "json_invalid"


def validation_detail(exc: RequestValidationError, example: Any = None) -> str:
    """One Chinese sentence naming the fields that were wrong (never the submitted values)."""
    problems: list[str] = []
    for error in exc.errors():
        kind = str(error.get("type", ""))
        if _not_an_object(error) and example is not None:
            return BAD_JSON_EXAMPLE_TEXT.format(example=json.dumps(example, ensure_ascii=False))
        if kind.startswith("value_error.jsondecode") or kind == "json_invalid":
            return BAD_JSON_TEXT
        label = next(
            (text for prefix, text in FIELD_TEXTS.items() if kind.startswith(prefix)), FIELD_TEXTS["value_error"]
        )
        if kind == "value_error.missing":
            label = FIELD_TEXTS["missing"]
        name = _field_name(tuple(error.get("loc", ())))
        problems.append(f"{name}：{label}" if name else label)
    return f"{INVALID_INPUT_TEXT}（{'；'.join(dict.fromkeys(problems))}）" if problems else INVALID_INPUT_TEXT


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = validation_detail(exc, body_example(request))
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """Our own Chinese details as they are; the framework's English ones in Chinese. Headers kept (redirects)."""
    detail = exc.detail
    if not (isinstance(detail, str) and _CJK_RE.search(detail)) and not isinstance(detail, list):
        detail = STATUS_TEXTS.get(exc.status_code, INVALID_INPUT_TEXT if exc.status_code < 500 else SERVER_ERROR_TEXT)
    if exc.status_code in (status.HTTP_204_NO_CONTENT, status.HTTP_304_NOT_MODIFIED):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
    logger.info("number out of range on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": NUMBER_TOO_LARGE_TEXT}, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


async def _unencodable(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
    # JSON may carry lone surrogates ("\ud83d"), which no database or hash can take as UTF-8.
    logger.info("unencodable text on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": UNREADABLE_TEXT_TEXT}, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    # PostgreSQL refuses what SQLite lets through: integers past 2**31/2**63, text past a column's length.
    logger.info("value out of range for the database on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": OUT_OF_RANGE_TEXT}, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)


async def _value_error(request: Request, exc: ValueError) -> JSONResponse:
    # psycopg2 refuses NUL characters in any text parameter (a search, a login name, a form field).
    if "NUL (0x00)" in str(exc):
        logger.info("NUL character refused by the database on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": UNREADABLE_TEXT_TEXT}, status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)
    return await _server_error(request, exc)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the (masked) log only; the client learns nothing about the internals.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": SERVER_ERROR_TEXT}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)


def register(app: FastAPI) -> None:
    """Install the Chinese error answers on ``app``."""
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _overflow)  # type: ignore[arg-type]
    app.add_exception_handler(UnicodeEncodeError, _unencodable)  # type: ignore[arg-type]
    app.add_exception_handler(ValueError, _value_error)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _server_error)

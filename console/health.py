"""Liveness probe used by the process supervisor and tests."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The console process is up."""
    return {"status": "ok"}

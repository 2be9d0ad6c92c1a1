"""Liveness and readiness probes (launcher, load balancer, tests) and the metrics endpoint."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from civil_affairs.ops.metrics import CONTENT_TYPE_LATEST, exposition

router = APIRouter()

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The console process is up and its event loop answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers (Rasa being down only makes the web chat answer "busy")."""

    def database_answers() -> bool:
        try:
            with request.app.state.sessions() as session:
                session.execute(text("SELECT 1"))
            return True
        except Exception:  # any database failure means "not ready", whatever the driver raises
            return False

    if not hasattr(request.app.state, "sessions"):
        return JSONResponse({"status": "starting"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    if not await asyncio.to_thread(database_answers):
        return JSONResponse({"status": "database unreachable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of every process on this machine, for scrapers on the same machine only."""
    client = request.client.host if request.client else ""
    if client not in LOOPBACK:
        return JSONResponse({"detail": "仅限本机访问"}, status_code=status.HTTP_403_FORBIDDEN)
    return Response(await asyncio.to_thread(exposition), media_type=CONTENT_TYPE_LATEST)

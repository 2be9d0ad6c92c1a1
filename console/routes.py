"""Every route of the console, listed in one place."""

from __future__ import annotations

from fastapi import FastAPI

from console import (
    applications,
    applications_api,
    applications_import,
    appointment_capacity,
    appointments,
    auth,
    conversations,
    dashboard,
    faq,
    faq_api,
    faq_files,
    handoff_forms,
    handoffs,
    handoffs_api,
    health,
    staff_accounts,
    system_health,
    webchat,
)


def register(app: FastAPI) -> None:
    """Attach all routers to ``app``."""
    app.include_router(health.router)
    app.include_router(webchat.router)
    app.include_router(auth.router)
    app.include_router(faq.router)
    app.include_router(faq_files.router)
    app.include_router(faq_api.router)
    app.include_router(appointments.router)
    app.include_router(appointment_capacity.router)
    # before applications: its /staff/applications/import would otherwise be read as an application number
    app.include_router(applications_import.router)
    app.include_router(applications.router)
    app.include_router(applications_api.router)
    app.include_router(handoffs.router)
    app.include_router(handoff_forms.router)
    app.include_router(handoffs_api.router)
    app.include_router(conversations.router)
    app.include_router(dashboard.router)
    app.include_router(system_health.router)
    app.include_router(staff_accounts.router)

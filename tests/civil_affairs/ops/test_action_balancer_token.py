"""The action balancer passes Rasa's action token on, so the action servers behind it can check it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from civil_affairs.ops.action_balancer import ActionBalancer, build_app
from civil_affairs.tokens import tokens_match
from launcher.ports import free_port
from servers.action_server import TOKEN_HEADER

TOKEN = "shared-action-token-0123456789"


async def test_the_token_reaches_the_action_server_and_a_missing_one_is_refused_there() -> None:
    seen: list[str | None] = []

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(TOKEN_HEADER)
        seen.append(given)
        if not tokens_match(TOKEN, given):
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = TestClient(TestServer(build_app(ActionBalancer([f"http://127.0.0.1:{port}/webhook"]))))
    await client.start_server()
    try:
        with_token = await client.post("/webhook", json={"next_action": "x"}, headers={TOKEN_HEADER: TOKEN})
        without = await client.post("/webhook", json={"next_action": "x"})
        assert with_token.status == 200
        assert without.status == 401
        assert seen == [TOKEN, None]
    finally:
        await client.close()
        await runner.cleanup()


def test_token_comparison() -> None:
    assert tokens_match(TOKEN, TOKEN)
    assert not tokens_match(TOKEN, TOKEN + "x")
    assert not tokens_match(TOKEN, None)
    assert not tokens_match("", "")  # an unset token never opens the door
    assert not tokens_match(TOKEN, "令牌")  # non-ASCII is compared, never an error

"""`make eval [CASES.yml]`: run resident messages through Rasa's REST channel and score the behaviour.

Each case gets a fresh sender. Its routed behaviour is read from the conversation tracker (which
action ran, and whether the FAQ action answered, offered candidates or gave up); FAQ answers must
also contain one of ``answer_any``, all of ``answer_all`` and none of ``answer_none``, and come from
one of ``faq_keys`` when the case lists them. ``expect: clarify`` passes when the bot offers
candidates ("您是想问…") instead of answering.

Besides the pass rates (overall, by expected behaviour, by topic and by ``shape`` when cases have
one), it reports the confident-wrong rate: policy cases (``faq`` and ``clarify``) that got an FAQ
answer that is wrong (another entry than ``faq_keys``, or failing the answer checks), or any answer
where a question back was expected.

If nothing answers at RASA_URL (or its tokens are unknown here: ``RASA_AUTH_TOKEN`` and
``RASA_REST_TOKEN``, or the ones the running launcher left in ``$DATA_DIR/run``), the script starts
a private action server and Rasa server on free ports with a temporary copy of the database, so
evaluating never changes the evaluated store.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import httpx
import yaml

from civil_affairs.config import Settings
from civil_affairs.ops.run_files import read_rasa_token, read_rest_token
from civil_affairs.tokens import REST_TOKEN_HEADER

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CASES = ROOT.parent / "shared" / "eval" / "dev-cases.yml"

# Which behaviour each action stands for; the FAQ action is split by what it decided.
ACTION_BEHAVIOUR = {
    "booking_form": "book_appointment",
    "reschedule_form": "book_appointment",
    "action_submit_booking": "book_appointment",
    "action_reschedule_booking": "book_appointment",
    "cancel_booking_form": "cancel_appointment",
    "action_cancel_booking": "cancel_appointment",
    "status_lookup_form": "check_status",
    "action_lookup_status": "check_status",
    "action_subscribe_status": "check_status",
    "action_unsubscribe_status": "check_status",
    "action_handoff": "handoff",
    "action_emergency": "emergency",
    "utter_greet": "greet",
    "utter_goodbye": "goodbye",
    "utter_thank": "thanks",
    "utter_out_of_scope": "out_of_scope",
    "action_out_of_scope": "out_of_scope",
    "utter_iamabot": "out_of_scope",
    "utter_help": "help",
}
CANCEL_INTENTS = {"cancel_appointment"}


@dataclass
class CaseResult:
    id: str
    text: str
    expect: str
    topic: str
    behaviour: str
    intent: str
    passed: bool
    reply: str
    latency_ms: float
    problems: list[str] = field(default_factory=list)
    shape: str = ""
    faq_key: str = ""
    offered: list[str] = field(default_factory=list)
    confident_wrong: bool = False


def behaviour_of(events: list[dict]) -> tuple[str, str]:
    """(behaviour, intent) of the last user turn in a tracker's events."""
    behaviour, intent, _, _ = turn_outcome(events)
    return behaviour, intent


def turn_outcome(events: list[dict]) -> tuple[str, str, str, list[str]]:
    """(behaviour, intent, FAQ key answered, FAQ keys offered) of the last user turn."""
    last_user = max(i for i, e in enumerate(events) if e.get("event") == "user")
    intent = (events[last_user].get("parse_data") or {}).get("intent", {}).get("name", "")
    turn = events[last_user + 1 :]
    actions = [
        e["name"]
        for e in turn
        if e.get("event") == "action" and e["name"] not in ("action_listen", "action_unlikely_intent")
    ]
    slots = {e["name"]: e.get("value") for e in turn if e.get("event") == "slot"}
    offered = [str(k) for k in slots.get("faq_candidates") or []]
    if slots.get("emergency_raised"):
        # the hotlines went out and staff were alerted, whichever action did it
        return "emergency", intent, "", []
    if slots.get("last_faq_key"):
        # answered from the FAQ store, whichever action delegated to it
        return "faq", intent, str(slots["last_faq_key"]), []
    if offered:
        # asked back with entries to pick from ("您是想问…", or an entry with choices), whichever action did it
        return "disambiguate", intent, "", offered
    for action in actions:
        if action == "action_answer_faq":
            if offered:
                return "disambiguate", intent, "", offered
            return "unknown", intent, "", []
        if action in ACTION_BEHAVIOUR:
            behaviour = ACTION_BEHAVIOUR[action]
            if behaviour == "book_appointment" and intent in CANCEL_INTENTS:
                behaviour = "cancel_appointment"
            return behaviour, intent, "", []
    return (actions[0] if actions else "none"), intent, "", []


def check_reply(case: dict, reply: str, behaviour: str, faq_key: str = "") -> list[str]:
    """Problems with a case's outcome (empty list: passed)."""
    problems: list[str] = []
    expect = case["expect"]
    wanted = "disambiguate" if expect == "clarify" else expect
    if behaviour != wanted:
        problems.append(f"routed to {behaviour}, expected {expect}")
    keys = case.get("faq_keys") or []
    if expect == "faq" and behaviour == "faq" and keys and faq_key not in keys:
        problems.append(f"answered {faq_key}, expected one of {keys}")
    if expect == "clarify":
        return problems
    any_of = case.get("answer_any") or []
    if any_of and not any(word in reply for word in any_of):
        problems.append(f"reply has none of {any_of}")
    missing = [w for w in case.get("answer_all") or [] if w not in reply]
    if missing:
        problems.append(f"reply lacks {missing}")
    forbidden = [w for w in case.get("answer_none") or [] if w in reply]
    if forbidden:
        problems.append(f"ANSWER_NONE violated: {forbidden}")
    return problems


def is_confident_wrong(case: dict, behaviour: str, problems: list[str]) -> bool:
    """A policy case answered from the FAQ, wrongly (or at all, when a question back was due)."""
    if behaviour != "faq":
        return False
    if case["expect"] == "clarify":
        return True
    return case["expect"] == "faq" and bool(problems)


def run_case(client: httpx.Client, rasa_url: str, case: dict, token: str) -> CaseResult:
    sender = f"eval-{case['id']}-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    response = client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": case["text"]})
    latency = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    reply = "\n".join(m.get("text") or "" for m in response.json())
    tracker = client.get(f"{rasa_url}/conversations/{sender}/tracker", params={"token": token}).json()
    behaviour, intent, faq_key, offered = turn_outcome(tracker.get("events", []))
    problems = check_reply(case, reply, behaviour, faq_key)
    return CaseResult(
        case["id"],
        case["text"],
        case["expect"],
        case.get("topic") or "none",
        behaviour,
        intent,
        not problems,
        reply,
        latency,
        problems,
        shape=case.get("shape") or "",
        faq_key=faq_key,
        offered=offered,
        confident_wrong=is_confident_wrong(case, behaviour, problems),
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def print_table(results: list[CaseResult]) -> dict:
    """Print the summary tables and return them as a dict for the JSON report."""

    def rate(group: list[CaseResult]) -> str:
        return f"{sum(r.passed for r in group)}/{len(group)} ({100 * sum(r.passed for r in group) / len(group):.1f}%)"

    by_expect: dict[str, list[CaseResult]] = defaultdict(list)
    by_topic: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_expect[r.expect].append(r)
        by_topic[r.topic].append(r)
    by_shape: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        if r.shape:
            by_shape[r.shape].append(r)
    policy = [r for r in results if r.expect in ("faq", "clarify")]
    wrong = [r for r in policy if r.confident_wrong]
    latencies = [r.latency_ms for r in results]
    none_violations = [r.id for r in results if any("ANSWER_NONE" in p for p in r.problems)]
    print(f"\noverall          {rate(results)}")
    print("by expect:")
    for name, group in sorted(by_expect.items()):
        print(f"  {name:<20} {rate(group)}")
    print("by topic:")
    for name, group in sorted(by_topic.items()):
        print(f"  {name:<20} {rate(group)}")
    if by_shape:
        print("by shape:")
        for name, group in sorted(by_shape.items()):
            print(f"  {name:<20} {rate(group)}")
    if policy:
        outcome = Counter(
            r.behaviour if r.behaviour in ("faq", "disambiguate", "unknown") else "routed elsewhere" for r in policy
        )
        offered_right = sum(
            1
            for r in policy
            if r.behaviour == "disambiguate"
            and r.expect == "faq"
            and any(_offered_is_right(r, key) for key in r.offered)
        )
        print(
            f"policy questions ({len(policy)}): answered {outcome['faq']}, offered choices "
            f"{outcome['disambiguate']} (a right entry among them: {offered_right}), don't know "
            f"{outcome['unknown']}, routed elsewhere {outcome['routed elsewhere']}"
        )
        print(
            f"confident-wrong answers: {len(wrong)}/{len(policy)} ({100 * len(wrong) / len(policy):.1f}%)"
            f" {[r.id for r in wrong] if wrong else ''}"
        )
    print(f"latency p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms")
    print(f"answer_none violations: {len(none_violations)} {none_violations if none_violations else ''}")
    failing = [r for r in results if not r.passed]
    if failing:
        print(f"\nfailing cases ({len(failing)}):")
        for r in failing:
            print(
                f"  {r.id} [{r.expect}/{r.topic}{'/' + r.shape if r.shape else ''}] intent={r.intent} "
                f"→ {r.behaviour}{' ' + r.faq_key if r.faq_key else ''}: {'; '.join(r.problems)}"
            )
            print(f"      text : {r.text[:80]}")
            print(f"      reply: {r.reply[:120].replace(chr(10), ' ')}")
    return {
        "overall": sum(r.passed for r in results) / len(results),
        "by_expect": {k: sum(r.passed for r in g) / len(g) for k, g in by_expect.items()},
        "by_topic": {k: sum(r.passed for r in g) / len(g) for k, g in by_topic.items()},
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)},
        "answer_none_violations": none_violations,
        "by_shape": {k: sum(r.passed for r in g) / len(g) for k, g in by_shape.items()},
        "confident_wrong": {
            "count": len(wrong),
            "policy_cases": len(policy),
            "rate": len(wrong) / len(policy) if policy else 0.0,
            "ids": [r.id for r in wrong],
        },
    }


_CASES: dict[str, dict] = {}


def _offered_is_right(result: CaseResult, key: str) -> bool:
    """Whether an offered entry would have passed the case: one of its ``faq_keys``, or (cases
    without keys) a seed answer with one of ``answer_any`` and none of ``answer_none``."""
    case = _CASES.get(result.id, {})
    if case.get("faq_keys"):
        return key in case["faq_keys"]
    answer = _seed_answers().get(key, "")
    any_of, none_of = case.get("answer_any") or [], case.get("answer_none") or []
    return bool(answer) and (not any_of or any(w in answer for w in any_of)) and not any(w in answer for w in none_of)


@lru_cache(maxsize=1)
def _seed_answers() -> dict[str, str]:
    from civil_affairs.setup_db import read_faq_seed

    return {r["key"]: str(r["answer"]) for r in read_faq_seed()}


def rasa_is_up(url: str, token: str) -> bool:
    """Rasa answers ``/status`` with this API token (``RASA_AUTH_TOKEN`` or the launcher's)."""
    if not token:
        return False
    try:
        return httpx.get(f"{url}/status", params={"token": token}, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_private_stack(settings: Settings, workdir: Path):  # type: ignore[no-untyped-def]
    """Action server + Rasa on free ports over a temporary copy of the database."""
    from civil_affairs.rasa_model import ensure_model
    from civil_affairs.setup_db import prepare_database
    from launcher import processes
    from launcher.children import start, wait_ready
    from launcher.ports import free_port

    database_url = f"sqlite:///{workdir / 'eval.db'}"
    source = settings.database_url.removeprefix("sqlite:///")
    if settings.database_url.startswith("sqlite:///") and Path(source).is_file():
        shutil.copy(source, workdir / "eval.db")
    prepare_database(database_url)
    rasa_port, action_port = free_port(), free_port()
    private = processes.with_service_tokens(
        Settings.from_env(
            {
                **os.environ,
                "DATABASE_URL": database_url,
                "RASA_PORT": str(rasa_port),
                "ACTION_PORT": str(action_port),
                "ACTION_REPLICAS": "1",
                "RASA_REPLICAS": "1",
                "ACTION_SERVER_URL": "",
                "RASA_URL": "",
                "ACTION_REPLICA_URLS": "",
                "RASA_AUTH_TOKEN": "",
                "ACTION_SERVER_TOKEN": "",
                "RASA_REST_TOKEN": "",
            }
        )
    )
    model = ensure_model(settings.model_dir)
    started = []
    for spec in (processes.action_server(private), processes.rasa_server(private, model)):
        spec.env.update({"DATABASE_URL": database_url, "ACTION_PORT": str(action_port)})
        running = start(spec, workdir / "logs")
        started.append(running)
        wait_ready(running, started)
    return private.rasa_url, private.rasa_auth_token, private.rasa_rest_token, started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="?", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--report", type=Path, default=None, help="JSON report path")
    args = parser.parse_args()
    cases = yaml.safe_load(args.cases.read_text(encoding="utf-8"))
    _CASES.update({str(c["id"]): c for c in cases})
    settings = Settings.from_env()
    started = []
    rasa_url = settings.rasa_url
    token, rest_token = read_rasa_token(settings), read_rest_token(settings)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if not (rest_token and rasa_is_up(rasa_url, token)):
                print(
                    "Rasa is not running (or its tokens are unknown here): starting a private stack "
                    "(temporary database copy)…"
                )
                rasa_url, token, rest_token, started = start_private_stack(settings, Path(tmp))
            with httpx.Client(timeout=60, headers={REST_TOKEN_HEADER: rest_token}) as client:
                results = [run_case(client, rasa_url, case, token) for case in cases]
        finally:
            from launcher.children import stop

            for running in reversed(started):
                stop(running)
    print(f"\n{len(results)} cases from {args.cases}")
    summary = print_table(results)
    report = args.report or ROOT / "reports" / f"eval-{datetime.now():%Y%m%d-%H%M%S}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {"cases_file": str(args.cases), "summary": summary, "results": [asdict(r) for r in results]},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

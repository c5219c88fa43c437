"""HTTP contract: webhooks (admin). Registering shows the secret once, listing never does;
bad URLs and event types are 422s that register nothing; the delivery log pages; a
removed or unknown webhook is 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cinema_core.webhooks import Outcome, verify
from tests.contract.http_app import Api, bad_fields, error_code
from tests.webhook_senders import ScriptedSender

URL = "https://hooks.example.com/cinema"
OpenApi = Callable[..., Api]


def register(api: Api, url: str = URL, events: list[str] | None = None) -> dict[str, object]:
    body = {"url": url, "events": events or ["payment.confirmed"]}
    response = api.post("/webhooks", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/webhooks/{response.json()['id']}"
    return dict(response.json())


def test_the_secret_is_shown_when_registered_and_never_listed(any_api: Api) -> None:
    """201 with the secret; GET /webhooks lists the webhook, active, without it."""
    made = register(any_api, events=["payment.confirmed", "sale.refunded"])
    assert str(made["secret"]).startswith("whsec_")
    listed = any_api.get("/webhooks", headers=any_api.admin).json()["items"]
    assert listed == [{k: v for k, v in made.items() if k != "secret"}]
    assert listed[0]["status"] == "active"
    assert listed[0]["disabled_at"] is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, {"url"}),
        ({"url": "http://127.0.0.1/x", "events": ["*"]}, {"url"}),
        ({"url": URL, "events": ["payment.nope"]}, {"events"}),
        ({"url": URL, "events": []}, {"events"}),
        ({"url": URL}, {"events"}),
        ({"url": 7, "events": ["*"]}, {"url"}),
    ],
)
def test_bad_urls_and_event_types_are_refused(
    api: Api, body: dict[str, object], fields: set[str]
) -> None:
    """422 naming the bad field; nothing is registered."""
    assert bad_fields(api.post("/webhooks", json=body, headers=api.admin)) == fields
    assert api.get("/webhooks", headers=api.admin).json()["items"] == []


def test_only_admins_manage_webhooks(api: Api) -> None:
    """A customer is 403, no token 401, on every webhook route."""
    made = register(api)
    path = f"/webhooks/{made['id']}"
    for method, url in [
        ("POST", "/webhooks"),
        ("GET", "/webhooks"),
        ("DELETE", path),
        ("POST", path + "/secret"),
        ("GET", path + "/deliveries"),
    ]:
        body = {"url": URL, "events": ["*"]} if method == "POST" else None
        assert api.request(method, url, json=body, headers=api.auth()).status_code == 403
        assert api.request(method, url, json=body).status_code == 401


def test_rotation_shows_a_new_secret_once(any_api: Api) -> None:
    """POST /webhooks/{id}/secret answers the webhook with a new secret."""
    made = register(any_api)
    rotated = any_api.post(f"/webhooks/{made['id']}/secret", headers=any_api.admin)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != made["secret"]
    assert rotated.json()["id"] == made["id"]


def test_removed_and_unknown_webhooks_are_404(any_api: Api) -> None:
    """DELETE is 204 then 404; a malformed or unknown id is 404 webhook_not_found."""
    made = register(any_api)
    path = f"/webhooks/{made['id']}"
    assert any_api.delete(path, headers=any_api.admin).status_code == 204
    for response in [
        any_api.delete(path, headers=any_api.admin),
        any_api.get(path + "/deliveries", headers=any_api.admin),
        any_api.post(path + "/secret", headers=any_api.admin),
        any_api.get("/webhooks/not-a-uuid/deliveries", headers=any_api.admin),
    ]:
        assert response.status_code == 404
        assert error_code(response) == "webhook_not_found"
    assert any_api.get("/webhooks", headers=any_api.admin).json()["items"] == []


def test_a_sale_is_owed_and_logged_with_its_attempts(any_api: Api) -> None:
    """A paid reservation's payment.confirmed becomes a delivery once the relay has published
    it; the log shows each attempt, newest first, and pages with next_cursor."""
    api = any_api
    assert api.services.webhooks is not None
    sender = ScriptedSender([Outcome(status=500)])
    api.services.webhooks.sender = sender
    made = register(api)
    session_id = api.create_session()["id"]
    for seat in ("A1", "A2", "A3"):
        api.pay(api.reserve(session_id, [seat]).json()["id"])
    api.services.relay.run_once()
    assert api.services.webhooks.send_due(limit=10) == 3
    path = f"/webhooks/{made['id']}/deliveries"
    first = api.get(path + "?limit=2", headers=api.admin).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = api.get(f"{path}?limit=2&cursor={first['next_cursor']}", headers=api.admin).json()
    assert rest["next_cursor"] is None
    items = first["items"] + rest["items"]
    assert {i["event_type"] for i in items} == {"payment.confirmed"}
    assert sorted((i["status"], i["attempts"]) for i in items) == [
        ("delivered", 1),
        ("delivered", 1),
        ("pending", 1),
    ]
    failed = next(i for i in items if i["status"] == "pending")
    assert (failed["last_status"], failed["last_error"]) == (500, "HTTP 500")
    assert failed["next_attempt_at"] is not None
    now = int(api.clock.now().timestamp())
    assert all(
        verify(str(made["secret"]), s.headers["Cinema-Signature"], s.body, now=now)
        for s in sender.sent
    )


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "cursor=nope"])
def test_bad_log_pages_are_named(api: Api, query: str) -> None:
    """A bad limit or cursor is 422 naming it."""
    made = register(api)
    response = api.get(f"/webhooks/{made['id']}/deliveries?{query}", headers=api.admin)
    assert bad_fields(response) == {query.split("=")[0]}


def test_private_receivers_are_allowed_when_configured(open_http_api: OpenApi) -> None:
    """CINEMA_WEBHOOK_ALLOW_PRIVATE lets an admin register a receiver on this machine."""
    api = open_http_api(webhook_allow_private=True)
    assert register(api, "http://127.0.0.1:9000/hook")["status"] == "active"

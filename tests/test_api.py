"""The JSON API: every route answers JSON its OpenAPI description allows, pages follow
cursors newest first without repeats, filters are search's, ETags give 304, nothing writes."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from govwatch.errors import StoreError
from govwatch.feeds.topics import ALL
from govwatch.parsers.records import CHINA_TZ
from govwatch.server import api as api_module
from govwatch.server.app import create_app
from govwatch.settings import Settings
from govwatch.store import Store
from tests.test_feeds import JJ, REVISED, ZD, add, new_revised_removed, open_store

BASE = "https://govwatch.example"


class Api:
    """The app on a store, asked in-process."""

    def __init__(self, store: Store) -> None:
        self.app = create_app(store, [ALL], [], Settings(base_url=BASE), scheduler=False)
        self.doc = self.get("/api/openapi.json").json()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        async def ask() -> httpx.Response:
            # A bug's exception is raised after the 500 went out (for the server's log).
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.request(kwargs.pop("method", "GET"), path, **kwargs)

        return asyncio.run(ask())

    def checked(self, path: str, template: str, status: int = 200, **params: Any) -> Any:
        """The JSON of `path`, validated against the schema the description gives for
        `template` and `status`."""
        answer = self.get(path, params=params)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        responses = self.doc["paths"][template]["get"]["responses"]
        described = responses.get(str(status), responses["default"])
        ref = described["content"]["application/json"]["schema"]["$ref"]
        schema = {"$ref": ref, "components": self.doc["components"]}
        data = answer.json()
        jsonschema.Draft202012Validator(schema).validate(data)
        return data

    def error(self, path: str, status: int, method: str = "GET") -> str:
        """The message of an error answer, which must be the Error the description gives."""
        answer = self.get(path, method=method)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/json"), path
        schema = {"$ref": "#/components/schemas/Error", "components": self.doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(answer.json())
        message: str = answer.json()["error"]
        return message


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """On SQLite, and on PostgreSQL among the slow tests."""
    with open_store(store_url) as opened:
        yield opened


def test_the_description_is_valid_openapi(store: Store) -> None:
    validate(Api(store).doc)


def test_every_route_answers_as_described(store: Store) -> None:
    new_revised_removed(store)
    api = Api(store)
    page = api.checked("/api/notices", "/api/notices")
    # Both dated 2025-02-28 (发文日期): the later id first.
    assert [n["title"] for n in page["notices"]] == [
        "靖江市教师招聘公告",
        "关于开展春季校园安全检查的通知",
    ]
    assert page["next_cursor"] is None
    first = page["notices"][1]
    assert (first["date"], first["status"], first["current_version"]) == (
        "2025-02-28",
        "removed",
        2,
    )
    assert first["meta"]["doc_no"] == REVISED["doc_no"]
    assert first["links"]["page"] == f"{BASE}/notices/{first['id']}"

    notice = api.checked(f"/api/notices/{first['id']}", "/api/notices/{id}")
    assert [v["number"] for v in notice["versions"]] == [1, 2]
    assert notice["versions"][1]["changed_fields"] == ["body", "meta.doc_no"]

    diff = api.checked(f"/api/notices/{first['id']}/diff", "/api/notices/{id}/diff")
    assert (diff["from"], diff["to"], diff["title"]) == (1, 2, None)
    assert diff["meta"] == {"doc_no": {"old": "张教体字〔2025〕1号", "new": REVISED["doc_no"]}}
    assert any(p["op"] == "change" for p in diff["body"])
    same = api.checked(f"/api/notices/{first['id']}/diff", "/api/notices/{id}/diff", to=1)
    assert (same["from"], same["to"], same["meta"]) == (1, 1, {})

    events = api.checked("/api/events", "/api/events")
    assert [e["kind"] for e in events["events"]] == ["new", "new", "revised", "removed"]
    sites = api.checked("/api/sites", "/api/sites")
    assert {s["id"]: (s["notices"], s["removed"]) for s in sites["sites"]} == {
        JJ: (1, 0),
        ZD: (1, 1),
    }

    missing = api.checked("/api/notices/999", "/api/notices/{id}", 404)
    assert missing["error"] == "no notice 999"
    api.checked(f"/api/notices/{first['id']}/diff", "/api/notices/{id}/diff", 404, to=7)
    for params in ({"limit": "0"}, {"cursor": "!!"}, {"since": "2025-13-01"}, {"kind": "x"}):
        assert "error" in api.checked("/api/notices", "/api/notices", 400, **params)
    assert (
        "offset"
        in api.checked("/api/events", "/api/events", 400, since="2025-03-01T00:00")["error"]
    )


def test_bad_numbers_are_400_not_500(store: Store) -> None:
    new_revised_removed(store)
    api = Api(store)
    notice_id = api.get("/api/notices").json()["notices"][0]["id"]

    def cursor(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    nines = "9" * 5000
    for path, template, params in (
        ("/api/notices", "/api/notices", {"limit": "²"}),
        ("/api/notices", "/api/notices", {"limit": nines}),
        ("/api/notices", "/api/notices", {"cursor": cursor("2025-02-28|²")}),
        ("/api/notices", "/api/notices", {"cursor": cursor(f"2025-02-28|{2**64}")}),
        ("/api/events", "/api/events", {"limit": "1" * 5000}),
        ("/api/events", "/api/events", {"cursor": cursor("9" * 30)}),
        ("/api/events", "/api/events", {"cursor": cursor(nines)}),
        (f"/api/notices/{notice_id}/diff", "/api/notices/{id}/diff", {"from": "²"}),
        (f"/api/notices/{notice_id}/diff", "/api/notices/{id}/diff", {"to": nines}),
    ):
        assert "error" in api.checked(path, template, 400, **params), params


ROUTES = ("/api/notices", "/api/notices/1", "/api/notices/1/diff", "/api/events", "/api/sites")


def test_every_error_is_json_as_described(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    new_revised_removed(store)
    api = Api(store)
    for template, operations in api.doc["paths"].items():
        responses = operations["get"]["responses"]
        statuses = ["default"] if template == "/api/openapi.json" else ["400", "503", "default"]
        for status in statuses + (["404"] if "{id}" in template else []):
            content = responses[status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, template
    assert api.error("/api/notices/999", 404) == "no notice 999"
    for path in ("/api/nothing", "/api/notices/1/nothing", "/api/notices/x", "/api/"):
        assert api.error(path, 404) == "Not Found", path
    for path in (*ROUTES, "/api/openapi.json"):
        for method in ("POST", "PUT", "DELETE"):
            assert api.error(path, 405, method) == "Method Not Allowed", (path, method)
    assert "GET" in api.get("/api/notices", method="POST").headers["allow"]
    assert "<html" in api.get("/nothing").text.lower()  # the pages keep their HTML

    def away(*args: Any, **kwargs: Any) -> Any:
        raise StoreError("database away")

    monkeypatch.setattr(store, "_read", away)
    for path in ROUTES:
        assert api.error(path, 503) == "the database cannot be reached for now", path
    assert api.get("/api/openapi.json").status_code == 200  # needs no database

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_module, "list_notices", bug)
    assert "internal error" in api.error("/api/notices", 500)
    answer = api.get("/search", params={"q": "x"})  # not under /api: no JSON
    assert not answer.headers["content-type"].startswith("application/json")


def test_notices_page_newest_first_by_date_without_repeats(store: Store) -> None:
    for n in range(1, 8):
        add(store, n, title=f"第{n}号", published_date=f"2025-01-{10 - n % 3:02d}")
    api = Api(store)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.checked("/api/notices", "/api/notices", **params)
        seen += page["notices"]
        if len(seen) == 3:
            add(
                store, 8, title="翻页时新来的", published_date="2025-01-09"
            )  # newer: not on later pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    keys = [(n["date"], n["id"]) for n in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == 7
    assert {n["title"] for n in seen} == {f"第{n}号" for n in range(1, 8)}


def test_filters_are_the_search_filters(store: Store) -> None:
    new_revised_removed(store)
    add(store, 3, title="教育收费公示", category="价格", published_date="2025-03-05")
    api = Api(store)

    def titles(**params: Any) -> list[str]:
        return [
            n["title"] for n in api.checked("/api/notices", "/api/notices", **params)["notices"]
        ]

    assert titles(site=JJ) == ["靖江市教师招聘公告"]
    assert titles(publisher="靖江") == ["靖江市教师招聘公告"]
    assert titles(category="价格") == ["教育收费公示"]
    assert titles(since="2025-03-01") == ["教育收费公示"]
    assert titles(until="2025-03-01", site=ZD) == ["关于开展春季校园安全检查的通知"]
    # Kinds select the notices whose current version an event of that kind is about.
    assert titles(kind="revised") == ["关于开展春季校园安全检查的通知"]
    assert titles(kind="removed") == ["关于开展春季校园安全检查的通知"]
    assert titles(kind="new") == ["教育收费公示", "靖江市教师招聘公告"]


def test_events_since_in_order_with_a_cursor(store: Store) -> None:
    new_revised_removed(store)
    api = Api(store)
    everything = api.checked("/api/events", "/api/events")["events"]
    later = api.checked("/api/events", "/api/events", since=everything[2]["at"])["events"]
    assert later == everything[2:]
    # Typed into a URL as-is: the + of +08:00 arrives as a space.
    typed = datetime.fromisoformat(everything[2]["at"]).astimezone(CHINA_TZ).isoformat()
    assert "+08:00" in typed
    for as_typed in (typed, typed.replace("+08:00", "+0800"), typed.replace("+08:00", "+08")):
        answer = api.get(f"/api/events?since={as_typed}")
        assert answer.status_code == 200, (as_typed, answer.text)
        assert answer.json()["events"] == later
    # A date and a time without an offset: no + lost there, and the answer says how.
    naive = api.get("/api/events?since=2025-03-01+08:00")
    assert naive.status_code == 400 and "written %2B in a URL" in naive.json()["error"]
    first = api.checked("/api/events", "/api/events", limit=3)
    rest = api.checked("/api/events", "/api/events", cursor=first["next_cursor"])
    assert first["events"] + rest["events"] == everything and rest["next_cursor"] is None
    kinds = api.checked("/api/events", "/api/events", kind=["revised", "removed"], site=ZD)
    assert [e["kind"] for e in kinds["events"]] == ["revised", "removed"]


def test_etags_answer_304_and_nothing_writes(store: Store) -> None:
    new_revised_removed(store)
    api = Api(store)
    for path in (
        "/api/notices",
        "/api/notices/1",
        "/api/notices/1/diff",
        "/api/events",
        "/api/sites",
    ):
        first = api.get(path)
        assert first.status_code == 200 and first.headers["etag"]
        again = api.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert api.get(path, method="POST").status_code == 405
    before = api.get("/api/events").headers["etag"]
    add(store, 5)
    assert api.get("/api/events", headers={"If-None-Match": before}).status_code == 200

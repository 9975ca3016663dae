"""The OpenAPI 3.1 description of the JSON API (govwatch/server/api.py), served at
/api/openapi.json; tests/test_api.py validates the document and every answer against it."""

from __future__ import annotations

from typing import Any

from govwatch import __version__

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_META = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "description": "信息公开 metadata under the keys of `govwatch clean` (index_no, category, "
    "publisher, written_date, issued_date, published_date, doc_no, validity, source).",
}
_KIND = {"type": "string", "enum": ["new", "revised", "removed", "restored"]}
_CURSOR = {
    "type": ["string", "null"],
    "description": "Pass as `cursor` for the next page; null on the last page.",
}
_LINKS = {
    "type": "object",
    "required": ["api", "page"],
    "properties": {"api": _STR, "page": _STR},
    "additionalProperties": False,
}


def _obj(props: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(props),
        "properties": props,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, where: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "schema": schema}


def _many(name: str, description: str, item: dict[str, Any] = _STR) -> dict[str, Any]:
    return {
        **_param(name, "query", description, {"type": "array", "items": item}),
        "style": "form",
        "explode": True,
    }


_OTHER_ERRORS = {
    "description": "Any other error, in the same shape: an unknown path under /api (404), a "
    "method other than GET or HEAD (405), an internal error (500).",
    "content": {"application/json": {"schema": _ref("Error")}},
}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "200": {
            "description": description,
            "headers": {"ETag": {"schema": _STR}},
            "content": {"application/json": {"schema": _ref(schema)}},
        },
        "304": {"description": "Not modified: the If-None-Match ETag is still current."},
        "400": {
            "description": "A parameter it cannot use.",
            "content": {"application/json": {"schema": _ref("Error")}},
        },
        "503": {
            "description": "The database cannot be reached for now; try again later.",
            "content": {"application/json": {"schema": _ref("Error")}},
        },
        "default": _OTHER_ERRORS,
    }


def _not_found(responses: dict[str, Any]) -> dict[str, Any]:
    return responses | {
        "404": {
            "description": "No such notice, or no such versions of it.",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    }


_LIMIT = _param(
    "limit",
    "query",
    "Items per page (default 50).",
    {"type": "integer", "minimum": 1, "maximum": 200},
)
_PAGE = _param("cursor", "query", "The `next_cursor` of the page before.", _STR)
_NOTICE_ID = {**_param("id", "path", "The notice's id.", {"type": "integer"}), "required": True}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {"error": {"type": "string", "description": "What went wrong, in a sentence."}},
        "Every error under /api: 400, 404, 405, 500, 503.",
    ),
    "Notice": _obj(
        {
            "id": {"type": "integer"},
            "url": _STR,
            "site": _STR,
            "site_name": _STR,
            "title": _STR,
            "date": {
                "type": "string",
                "format": "date",
                "description": "The notice's 发布日期 (else 发文日期, 成文日期, the listing's "
                "date, the day it was first fetched).",
            },
            "status": {"type": "string", "enum": ["active", "removed"]},
            "current_version": {"type": "integer"},
            "first_seen_at": _TIME,
            "last_checked_at": _NULLABLE_TIME,
            "meta": _META,
            "links": _LINKS,
        },
        "A notice as its current version shows it.",
    ),
    "NoticePage": _obj(
        {"notices": {"type": "array", "items": _ref("Notice")}, "next_cursor": _CURSOR}
    ),
    "Attachment": _obj({"name": _STR, "url": _STR}),
    "Version": _obj(
        {
            "number": {"type": "integer"},
            "fetched_at": _TIME,
            "title": _STR,
            "body": {"type": "string", "description": "Paragraphs, one per line."},
            "meta": _META,
            "attachments": {"type": "array", "items": _ref("Attachment")},
            "changed_fields": {"type": "array", "items": _STR},
            "content_hash": _STR,
            "parser_version": _NULLABLE_STR,
        }
    ),
    "NoticeDetail": _obj(
        {
            "id": {"type": "integer"},
            "url": _STR,
            "site": _STR,
            "site_name": _STR,
            "title": _STR,
            "status": {"type": "string", "enum": ["active", "removed"]},
            "current_version": {"type": ["integer", "null"]},
            "first_seen_at": _TIME,
            "last_checked_at": _NULLABLE_TIME,
            "links": _LINKS,
            "versions": {"type": "array", "items": _ref("Version")},
        },
        "A notice with every version, oldest first.",
    ),
    "Change": _obj({"old": _NULLABLE_STR, "new": _NULLABLE_STR}),
    "Paragraph": {
        "type": "object",
        "required": ["op"],
        "properties": {
            "op": {"type": "string", "enum": ["equal", "insert", "delete", "change"]},
            "old": _STR,
            "new": _STR,
            "segments": {
                "type": "array",
                "items": _obj(
                    {"op": {"type": "string", "enum": ["equal", "insert", "delete"]}, "text": _STR}
                ),
            },
        },
        "additionalProperties": False,
    },
    "Diff": _obj(
        {
            "notice_id": {"type": "integer"},
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "title": {"oneOf": [_ref("Change"), {"type": "null"}]},
            "meta": {"type": "object", "additionalProperties": _ref("Change")},
            "body": {"type": "array", "items": _ref("Paragraph")},
        },
        "What changed between two versions: title (null when the same), each metadata key "
        "that changed, and the body's paragraphs aligned, changes marked by character.",
    ),
    "Event": _obj(
        {
            "id": {"type": "integer"},
            "kind": _KIND,
            "notice_id": {"type": "integer"},
            "url": _STR,
            "title": _STR,
            "site": _STR,
            "site_name": _STR,
            "at": _TIME,
            "version": {"type": ["integer", "null"]},
            "changed_fields": {"type": "array", "items": _STR},
            "baseline": {
                "type": "boolean",
                "description": "A `new` event of a site's quiet first crawl: history, not news.",
            },
            "links": _LINKS,
        }
    ),
    "EventPage": _obj(
        {"events": {"type": "array", "items": _ref("Event")}, "next_cursor": _CURSOR}
    ),
    "Site": _obj(
        {
            "id": _STR,
            "name": _STR,
            "parser": _STR,
            "topics": {"type": "array", "items": _STR},
            "notices": {"type": "integer"},
            "removed": {"type": "integer"},
            "last_event_at": _NULLABLE_TIME,
            "health": {
                "type": ["string", "null"],
                "enum": ["ok", "empty", "layout_change", "unreachable", None],
            },
        }
    ),
    "SiteList": _obj({"sites": {"type": "array", "items": _ref("Site")}}),
}

PATHS: dict[str, Any] = {
    "/api/notices": {
        "get": {
            "summary": "Notices, newest first by their date, a page at a time.",
            "parameters": [
                _many("site", "Only these sites (seed ids)."),
                _many("publisher", "发布机构 containing one of these."),
                _many("category", "主题分类 containing one of these."),
                _param(
                    "since",
                    "query",
                    "Notices dated on or after.",
                    {"type": "string", "format": "date"},
                ),
                _param(
                    "until",
                    "query",
                    "Notices dated on or before.",
                    {"type": "string", "format": "date"},
                ),
                _many(
                    "kind", "Notices whose current version came with one of these events.", _KIND
                ),
                _LIMIT,
                _PAGE,
            ],
            "responses": _ok("NoticePage", "A page of notices."),
        }
    },
    "/api/notices/{id}": {
        "get": {
            "summary": "A notice with every version.",
            "parameters": [_NOTICE_ID],
            "responses": _not_found(_ok("NoticeDetail", "The notice.")),
        }
    },
    "/api/notices/{id}/diff": {
        "get": {
            "summary": "What changed between two versions (default: the last two).",
            "parameters": [
                _NOTICE_ID,
                _param("from", "query", "The older version.", {"type": "integer", "minimum": 1}),
                _param("to", "query", "The newer version.", {"type": "integer", "minimum": 1}),
            ],
            "responses": _not_found(_ok("Diff", "The changes.")),
        }
    },
    "/api/events": {
        "get": {
            "summary": "Events (new, revised, removed, restored) in the order they happened.",
            "parameters": [
                _param(
                    "since",
                    "query",
                    "Events at or after this time (ISO 8601 with offset), or this day (China).",
                    _STR,
                ),
                _many("site", "Only these sites."),
                _many("kind", "Only these kinds.", _KIND),
                _LIMIT,
                _PAGE,
            ],
            "responses": _ok("EventPage", "A page of events."),
        }
    },
    "/api/sites": {
        "get": {
            "summary": "Every site with its notices and health.",
            "responses": _ok("SiteList", "The sites."),
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This description.",
            "responses": {"200": {"description": "OpenAPI 3.1."}, "default": _OTHER_ERRORS},
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "govwatch API",
            "version": __version__,
            "description": "Read-only JSON over the notices govwatch keeps: every version, "
            "what changed, events and sites. Answers carry an ETag; send it as "
            "If-None-Match for a 304.",
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }

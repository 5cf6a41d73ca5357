"""Links function entry point (`entry.links.handler`): `GET /links/{token}` on the HTTP API.

A link studiobot signed redirects (302) to a presigned URL of 10 minutes; an expired, altered or unknown one gets
a short HTML page saying what to do, never S3's XML. The local bot server answers the same route with `answer`.
"""

from __future__ import annotations

from typing import Any

from backend.render.links import Answer, Links
from entry import wiring

HTML = "text/html; charset=utf-8"


def answer(links: Links, token: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body for a followed link (the HTTP API and the local bot server say the same)."""
    followed: Answer = links.follow(token)
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if followed.location:
        return followed.status, {**headers, "Location": followed.location}, ""
    return followed.status, {**headers, "Content-Type": HTML}, followed.page


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway (payload 2.0) in, a redirect or a page out."""
    token = str((event.get("pathParameters") or {}).get("token") or "")
    status, headers, body = answer(wiring.from_env().links, token)
    return {"statusCode": status, "headers": headers, "body": body}

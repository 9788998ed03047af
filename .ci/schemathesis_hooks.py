"""What the API's rules say that an OpenAPI schema cannot, for schemathesis' generators.

The document states every rule about one value (patterns, enums, lengths, and the
member cities' slugs, filled in when it is served). A few rules relate two values, or a
value to what the server handed out before, and JSON Schema has no words for them:

- `to` is not before `from` (otherwise a 400 that says so);
- a `cursor` is one that a page of the same listing gave (otherwise a 400);
- an event ends after it starts, and times are given unless it is all-day
  (otherwise a 422 that names the field).

Each hook below changes only requests that schemathesis generated as valid ("positive"),
and only so that they keep to these rules; requests meant to be invalid pass untouched.
So positive_data_acceptance still catches a schema that allows what the server refuses,
and negative_data_rejection one that refuses less than it says.
"""

import base64

import schemathesis


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


def _is_our_cursor(value):
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode().startswith("v1.")
    except Exception:
        return False


@schemathesis.hook
def map_case(context, case):
    if not _positive(case):
        return case
    query = case.query
    if isinstance(query, dict):
        cursor = query.get("cursor")
        if isinstance(cursor, str) and not _is_our_cursor(cursor):
            del query["cursor"]
        start, end = query.get("from"), query.get("to")
        if isinstance(start, str) and isinstance(end, str) and start and end and end < start:
            query["from"], query["to"] = end, start
    return case

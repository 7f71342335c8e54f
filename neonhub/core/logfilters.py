"""Logging filters named in ``settings.LOGGING``."""

from __future__ import annotations

import logging
import re

# "?" and everything up to the next space or quote: the query string of a logged URL or request
# line ("GET /hooks/meta/1?hub.verify_token=... HTTP/1.1").
_QUERY = re.compile(r"\?[^\s\"']*")


def strip_query(text: str) -> str:
    return _QUERY.sub("", text)


class DropQueryStrings(logging.Filter):
    """Take query strings out of request log lines.

    Providers put secrets in them (Meta's webhook verification sends ``hub.verify_token`` in
    the URL), and people put addresses in search filters; the path is enough to read a log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = strip_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(strip_query(a) if isinstance(a, str) else a for a in record.args)
        return True

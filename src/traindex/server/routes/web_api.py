"""JSON twins of the web pages: ``GET /api/datasets`` and ``GET /api/rows/...``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from traindex.bootstrap import Services
from traindex.errors import TraindexError
from traindex.server.context import PerThread
from traindex.server.overview import summarise
from traindex.server.routes.search import error_answer, json_answer
from traindex.server.rows import RowRef

__all__ = ["router"]


_ROW_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "unreadable row reference; `detail` says why"},
    404: {"description": "no such dataset, release, shard or row"},
}


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["catalog"])
    contexts = PerThread(services)

    @api.get("/datasets", response_model=dict[str, Any])
    def datasets() -> JSONResponse:
        """Ingested releases: rows, failed/rejected rows, fingerprint coverage, dates."""
        releases = [
            {**asdict(s), "coverage": round(s.coverage, 6)} for s in summarise(services.catalog)
        ]
        return json_answer({"datasets": releases})

    def detail(ref: RowRef) -> dict[str, Any]:
        found = contexts.get().rows.detail(ref)
        return {
            "dataset": ref.dataset,
            "release": ref.release,
            "shard": ref.shard,
            "row": ref.row,
            "record": found.record,
            "local_image": found.has_local_image,
            "thumbnail_shown": found.image is not None,
            "elsewhere": [m.to_json() for m in found.elsewhere],
        }

    @api.get("/rows/{dataset}/{release}", response_model=dict[str, Any], responses=_ROW_ERRORS)
    async def row(
        dataset: str,
        release: str,
        shard: Annotated[str, Query(description="the dataset's source file, as a match cites it")],
        row: Annotated[int, Query(ge=0, le=2**40, description="0-based row in that file")],
    ) -> JSONResponse:
        """Everything the catalog knows about one row, and the same URL/image elsewhere."""
        try:
            answer = await run_in_threadpool(detail, RowRef(dataset, release, shard, row))
        except TraindexError as exc:
            return error_answer(exc)
        return json_answer(answer)

    return api

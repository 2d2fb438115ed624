"""Face watches keep the face-search guardrails: one face per photo, no names, audited;
"not searched" until faces are indexed, then each row with the face is alerted once."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.unit.server.test_optout_pages import _signup

from traindex.config import Settings
from traindex.errors import InputError
from traindex.fingerprint.faces import FaceOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.registry.service import RegistryService
from traindex.search.face_guard import FaceAudit
from traindex.server.app import create_app
from traindex.watch.service import WatchService

from .conftest import photo_bytes, write_gallery

pytestmark = pytest.mark.shared


@pytest.mark.parametrize(
    ("ref", "words"),
    [("examples/two_people.jpg", "exactly one face, 2 were found"), ("skimage:coffee", "no face")],
)
def test_a_photo_without_exactly_one_face_is_refused(
    settings: Settings, face_root: Path, tmp_path: Path, ref: str, words: str
) -> None:
    path = face_root / ref
    if ref.startswith("skimage:"):
        path = tmp_path / "coffee.png"
        path.write_bytes(photo_bytes(face_root, ref))
    service = WatchService(settings)
    with pytest.raises(InputError, match=words):
        service.add("face", str(path))
    assert service.store.watches() == []


def test_face_watch_is_not_searched_until_faces_are_indexed_then_alerts_once(
    settings: Settings, face_root: Path, tmp_path: Path
) -> None:
    table = write_gallery(face_root, tmp_path / "images", None)
    service = WatchService(settings)
    watch = service.add("face", str(face_root / "examples/obama.jpg"))
    ingest(settings, table, dataset="gallery", release="main")
    service.after_new_rows("gallery/main")
    [gap] = service.store.gaps()
    assert gap.state == "not searched"
    assert "none of its 13 rows has been fingerprinted (faces)" in gap.coverage.describe(
        gap.signals
    )
    assert service.store.alerts() == []

    fingerprint(settings, "gallery", images=tmp_path / "images", workers=1, faces=FaceOptions())
    service.after_new_rows("gallery/main")
    found = service.store.alerts([watch.id])
    keys = sorted(a.match["key"] for a in found)
    assert keys == ["obama_a", "obama_b", "pair"]  # the two_people photo shows him too
    assert all(a.match["method"] == "same_face" for a in found)
    assert all(a.match["caption"] is None for a in found)  # captions can name people
    assert all("flickr_owner" not in a.match for a in found)
    service.after_new_rows("gallery/main")
    service.run()
    assert len(service.store.alerts()) == 3
    [today] = FaceAudit(settings.home).counts().values()
    assert today == {"searched": 1}  # one search per run with new indexed faces; counts only


@pytest.mark.parametrize("enabled", [False, True])
def test_face_watch_matches_show_on_the_page_only_where_face_search_is_on(
    gallery: Settings, face_root: Path, enabled: bool
) -> None:
    settings = gallery.model_copy(update={"face_search_enabled": enabled})
    with TestClient(create_app(settings)) as client:
        name = f"Face Owner {enabled}"
        _signup(client, name)
        registry = RegistryService.open(settings)
        owner = registry.owner_named(name)
        registry.close()
        assert owner is not None
        service = WatchService(settings)
        watch = service.add("face", str(face_root / "examples/obama.jpg"), owner_id=owner.id)
        service.run(watch_ids=[watch.id])
        [alert, *_] = service.store.alerts([watch.id])
        page = client.get("/watches").text
        alert_page = client.get(f"/watches/alerts/{alert.id}").text
    if enabled:
        assert f"/watches/alerts/{alert.id}" in page
        assert 'id="report"' in alert_page
    else:
        assert "face search is turned off on this server" in page
        assert f"/watches/alerts/{alert.id}" not in page
        assert "face search is turned off on this server" in alert_page
        assert 'id="report"' not in alert_page

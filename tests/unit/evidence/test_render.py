"""HTML, CSV and PDF renderings of real reports say what the signed JSON says."""

from __future__ import annotations

import base64
import csv
import io
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from traindex.config import Settings
from traindex.core.signing import Signer
from traindex.errors import InputError
from traindex.evidence.render import format_of, render_csv, render_html
from traindex.evidence.service import EvidenceService, RenderedReport
from traindex.search.queries import Query

pytestmark = pytest.mark.shared


def test_html_is_self_contained_with_digest_key_and_thumbnails(rendered: RenderedReport) -> None:
    html = render_html(rendered.sealed, rendered.thumbnails)
    signature = rendered.sealed.signature
    assert signature.digest in html
    assert signature.key_fingerprint in html
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)  # nothing fetched from outside
    for m in rendered.sealed.report.matches:
        assert m.url in html
    thumbs = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)
    refs = [(m.dataset, m.release, m.source_file, m.key) for m in rendered.sealed.report.matches]
    assert len(thumbs) == sum(ref in rendered.thumbnails for ref in refs)
    assert len(rendered.thumbnails) == 3  # china, flower and the CC3M fireworks row
    for data in thumbs:
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            assert max(image.size) <= 128


def test_csv_has_every_match_and_every_negative(rendered: RenderedReport) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(rendered.sealed))))
    report = rendered.sealed.report
    found = [r for r in rows if r["outcome"] == "found"]
    assert [(r["dataset"], r["source_file"], int(r["row"])) for r in found] == [
        (m.dataset, m.source_file, m.row) for m in report.matches
    ]
    assert [r["searched"] for r in rows if r["outcome"] != "found"] == [
        q.value for q in report.negatives
    ]


def test_format_follows_the_extension() -> None:
    assert [format_of(Path(f"r.{s}")) for s in ("html", "PDF", "json", "csv", "htm")] == [
        "html",
        "pdf",
        "json",
        "csv",
        "html",
    ]
    with pytest.raises(Exception, match="unknown report format"):
        format_of(Path("r.docx"))


@pytest.mark.slow
def test_pdf_of_a_long_real_table_paginates_with_repeated_header(
    demo_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    service = EvidenceService(demo_settings, signer)
    run = service.search_query(Query("text", "stock"), "laion400m-sample")
    assert len(run.matches) == 390  # every real LAION row whose caption says "stock"
    rendered = service.report([run], "Stock agency")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(rendered.render("pdf"))
    pages = [p.extract_text() for p in PdfReader(pdf).pages]
    assert len(pages) >= 10
    table_pages = [t for t in pages if "caption" in t and "confidence" in t]
    assert len(table_pages) >= 10  # the header row is repeated on every page of the table
    text = " ".join(" ".join(p.split()) for p in pages)
    assert rendered.sealed.signature.digest in text.replace(" ", "")
    assert rendered.sealed.signature.key_fingerprint in text
    plain = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    cited = {int(row) for row in re.findall(r"row (\d+)", plain)}
    assert {m.row for m in rendered.sealed.report.matches} <= cited  # every row is cited
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    with Image.open(next(tmp_path.glob("page*.png"))) as page:
        assert page.width > page.height  # A4 landscape
        darkest, _ = page.convert("L").getextrema()
        assert isinstance(darkest, int)
        assert darkest < 64  # text was drawn, not a blank page


def test_pdf_size_is_capped_but_other_formats_are_not(rendered: RenderedReport) -> None:
    capped = RenderedReport(rendered.sealed, rendered.thumbnails, pdf_max_matches=1)
    with pytest.raises(InputError, match="PDFs are limited to 1"):
        capped.render("pdf")
    assert capped.render("csv").count(b"\n") > 1


def test_rendering_a_pdf_keeps_the_image_decoder_strict() -> None:
    from traindex.evidence.render import html_to_pdf
    from traindex.fingerprint.images import ImageDecodeError, decode_image

    html_to_pdf("<p>strict</p>")
    buffer = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_image(data[: len(data) // 2], name="cut.jpg")

"""Generate LAION-400M-like metadata parquet files with realistic distributions.

Domains follow a Zipf law over a pool of registrable domains (a few giants such as CDNs
and shops, a long tail of small sites), with host prefixes (www., cdn., i1., images.),
numeric/slug paths and query strings; ~0.2 % are Flickr static URLs. Captions draw words
from a Zipf vocabulary plus person names, so both frequent and rare terms exist.
Seeded: the same arguments always give the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["generate"]

_TLDS = np.array(
    [
        "com",
        "com",
        "com",
        "net",
        "org",
        "co.uk",
        "de",
        "fr",
        "ru",
        "com.au",
        "jp",
        "it",
        "blogspot.com",
        "io",
    ]
)
_PREFIX = np.array(["", "www.", "www.", "cdn.", "i1.", "images.", "static.", "img.", "media."])
_SYLL = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ra",
    "to",
    "shi",
    "pa",
    "ve",
    "dor",
    "lin",
    "mar",
    "tek",
    "sun",
    "bel",
    "cor",
    "zen",
    "fio",
]
_FIRST = [
    "Robert",
    "Anna",
    "Maria",
    "John",
    "Li",
    "Fatima",
    "Lukas",
    "Sofia",
    "Kenji",
    "Olga",
    "José",
    "Chloé",
]
_LAST = [
    "Kneschke",
    "Müller",
    "Smith",
    "Garcia",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Tanaka",
    "Silva",
    "Dubois",
    "Jensen",
    "Novak",
]
_LICENSES = np.array(
    [
        "?",
        "?",
        "?",
        "?",
        "?",
        "?",
        "?",
        "?",
        "https://creativecommons.org/licenses/by/2.0/",
        "https://creativecommons.org/licenses/by-nc-sa/3.0/",
    ]
)


def _words(rng: np.random.Generator, n: int) -> np.ndarray:
    syll = np.array(_SYLL)
    parts = rng.integers(0, len(syll), size=(n, 3))
    lengths = rng.integers(1, 4, size=n)
    return np.array(
        [
            "".join(syll[p[:k]]) + str(i % 7 or "")
            for i, (p, k) in enumerate(zip(parts, lengths, strict=True))
        ]
    )


def _domains(rng: np.random.Generator, n: int) -> np.ndarray:
    stems = _words(rng, n)
    return np.char.add(np.char.add(stems, "."), _TLDS[rng.integers(0, len(_TLDS), n)])


def _urls(rng: np.random.Generator, n: int, domains: np.ndarray) -> list[str]:
    pick = np.minimum(rng.zipf(1.3, n) - 1, len(domains) - 1)
    hosts = np.char.add(_PREFIX[rng.integers(0, len(_PREFIX), n)], domains[pick])
    ids = rng.integers(1, 10**9, n)
    shape = rng.integers(0, 4, n)
    urls = []
    for host, i, s in zip(hosts.tolist(), ids.tolist(), shape.tolist(), strict=True):
        if s == 0:
            urls.append(f"https://{host}/images/{i % 1000}/{i}.jpg")
        elif s == 1:
            urls.append(
                f"http://{host}/wp-content/uploads/2019/{i % 12 + 1:02d}/photo-{i}-300x200.jpg"
            )
        elif s == 2:
            urls.append(f"https://{host}/p/{i}.jpeg?w=600&h=400")
        else:
            urls.append(f"https://{host}/media/catalog/product/cache/{i % 97}/{i}.png")
    flickr = rng.random(n) < 0.002
    for k in np.flatnonzero(flickr).tolist():
        urls[k] = f"https://farm{k % 9 + 1}.staticflickr.com/{k % 9000}/{10**9 + k}_{k:010x}.jpg"
    return urls


def _captions(rng: np.random.Generator, n: int, vocab: np.ndarray) -> list[str]:
    lengths = rng.integers(3, 16, n)
    idx = np.minimum(rng.zipf(1.2, int(lengths.sum())) - 1, len(vocab) - 1)
    words = vocab[idx].tolist()
    names = rng.random(n) < 0.02
    caps, pos = [], 0
    for i, k in enumerate(lengths.tolist()):
        text = " ".join(words[pos : pos + k])
        pos += k
        if names[i]:
            text += f" by {_FIRST[i % len(_FIRST)]} {_LAST[(i // 7) % len(_LAST)]}"
        caps.append(text)
    return caps


def generate(out: Path, rows: int, per_file: int = 1_000_000, seed: int = 0) -> list[Path]:
    """Write ``rows`` rows in files of ``per_file``; existing complete files are kept."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    domains = _domains(rng, 200_000)
    vocab = _words(rng, 50_000)
    paths = []
    for f, start in enumerate(range(0, rows, per_file)):
        n = min(per_file, rows - start)
        path = out / f"part-{f:05d}.parquet"
        paths.append(path)
        if path.exists() and pq.ParquetFile(path).metadata.num_rows == n:
            continue
        frng = np.random.default_rng([seed, f])
        table = pa.table(
            {
                "SAMPLE_ID": np.arange(start, start + n, dtype=np.int64),
                "URL": _urls(frng, n, domains),
                "TEXT": _captions(frng, n, vocab),
                "HEIGHT": frng.integers(64, 2048, n),
                "WIDTH": frng.integers(64, 2048, n),
                "LICENSE": _LICENSES[frng.integers(0, len(_LICENSES), n)],
                "NSFW": np.array(["UNLIKELY", "UNSURE", "NSFW"])[
                    frng.choice(3, n, p=[0.9, 0.08, 0.02])
                ],
                "similarity": frng.uniform(0.3, 0.45, n),
            }
        )
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp, compression="snappy")
        tmp.replace(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    generate(args.out, args.rows)

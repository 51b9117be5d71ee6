"""One-time export of the course datasets from scikit-learn's bundled copies.

This is a maintainer tool, not part of the course code: the CSV files it writes are committed to the
repository, and ``solutions/datasets.py`` reads only those files. Nothing in the course imports
scikit-learn, and scikit-learn is deliberately NOT in requirements.txt.

To re-run it (only needed if the files must be regenerated), in any Python environment that has
numpy and scikit-learn::

    python -m pip install scikit-learn        # e.g. in a scratch virtual environment
    python data/export_from_sklearn.py        # writes data/diabetes.csv, breast_cancer.csv, digits.csv
    python data/export_from_sklearn.py --out /tmp/check   # write elsewhere, e.g. to compare

The output is deterministic: values that are whole numbers are written as integers (``59``), all
others with Python's ``repr``, the shortest text that reads back as exactly the same float64
(``4.8598``). Lines end with ``\\n``. The script checks that every file reads back to exactly
scikit-learn's arrays, then prints each file's sha256; those hashes are recorded in
``solutions/datasets.py`` (``sha256=`` of each ``_DataFile``) and in ``data/README.md``, and must
be updated together.

The files were first exported with scikit-learn 1.9.1.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import sklearn
from sklearn import datasets


def format_value(value) -> str:
    """Shortest text that round-trips to the same float64; whole numbers without a ``.0``."""
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"non-finite value {value!r} in the data")
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> str:
    """Write ``header`` and ``rows`` as comma-separated lines ending in ``\\n``; return the sha256."""
    lines = [",".join(header)] + [",".join(row) for row in rows]
    data = ("\n".join(lines) + "\n").encode("ascii")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read_back(path: Path) -> list[list[str]]:
    """The data lines of a CSV written by ``write_csv``, split into fields (header dropped)."""
    lines = path.read_text(encoding="ascii").splitlines()
    return [line.split(",") for line in lines[1:]]


def export_diabetes(out: Path) -> str:
    """data/diabetes.csv: the raw (unscaled) diabetes data, 442 rows, 10 features + target."""
    bunch = datasets.load_diabetes(scaled=False)
    X, y = bunch.data, bunch.target
    assert X.shape == (442, 10) and y.shape == (442,)
    header = [*bunch.feature_names, "target"]
    assert header == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"]
    rows = [[format_value(v) for v in [*x, t]] for x, t in zip(X, y, strict=True)]
    path = out / "diabetes.csv"
    sha = write_csv(path, header, rows)
    back = np.array(read_back(path), dtype=np.float64)
    assert np.array_equal(back[:, :-1], X) and np.array_equal(back[:, -1], y)
    return sha


def export_breast_cancer(out: Path) -> str:
    """data/breast_cancer.csv: 569 rows, 30 features + ``diagnosis`` (M / B as in the UCI original)."""
    bunch = datasets.load_breast_cancer()
    X, y = bunch.data, bunch.target
    assert X.shape == (569, 30) and y.shape == (569,)
    # scikit-learn codes the target as 0 = malignant, 1 = benign.
    assert list(bunch.target_names) == ["malignant", "benign"]
    names = [str(name).replace(" ", "_") for name in bunch.feature_names]  # "mean radius" -> ...
    header = [*names, "diagnosis"]
    rows = [
        [*(format_value(v) for v in x), "M" if t == 0 else "B"] for x, t in zip(X, y, strict=True)
    ]
    path = out / "breast_cancer.csv"
    sha = write_csv(path, header, rows)
    back = read_back(path)
    assert np.array_equal(np.array([r[:-1] for r in back], dtype=np.float64), X)
    assert [r[-1] for r in back] == ["M" if t == 0 else "B" for t in y]
    return sha


def export_digits(out: Path) -> str:
    """data/digits.csv: 1797 rows, 64 pixel columns (integers 0..16) + ``label`` (0..9)."""
    bunch = datasets.load_digits()
    X, y = bunch.data, bunch.target
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert np.array_equal(X, np.round(X)) and X.min() == 0 and X.max() == 16
    header = [f"pixel_{i}" for i in range(64)] + ["label"]
    rows = [[format_value(v) for v in [*x, t]] for x, t in zip(X, y, strict=True)]
    path = out / "digits.csv"
    sha = write_csv(path, header, rows)
    back = np.array(read_back(path), dtype=np.int64)
    assert np.array_equal(back[:, :-1], X) and np.array_equal(back[:, -1], y)
    return sha


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write the CSV files to (default: the folder of this script, data/)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"scikit-learn {sklearn.__version__}, writing to {args.out}")
    for name, export in [
        ("diabetes.csv", export_diabetes),
        ("breast_cancer.csv", export_breast_cancer),
        ("digits.csv", export_digits),
    ]:
        print(f"{export(args.out)}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Small real datasets and seeded synthetic data for the course.

Real data, read from the CSV files in the repository's ``data/`` folder (see ``data/README.md``):

- ``load_diabetes()``: regression; 442 patients, 10 features, y = disease progression after a year.
- ``load_breast_cancer()``: binary classification; 569 tumours, 30 features, y = 1.0 if malignant.
- ``load_digits()``: 10-class classification; 1797 images of 8x8 pixels, y = the digit 0..9.

Each returns a ``Split`` that unpacks like a tuple::

    X_train, X_test, y_train, y_test = load_diabetes()
    X_train.shape, y_train.shape        # (torch.Size([354, 10]), torch.Size([354]))

Synthetic data for tests and demos: ``make_regression()`` and ``make_classification()``.

Everything is seeded: the same ``seed`` gives the same numbers on every machine and device, because
the random numbers are drawn on the CPU and only the result is moved to ``device``.

Errors: a missing, malformed or modified data file raises ``DatasetError`` (a ``ValueError``) that
names the file and, where it applies, the line; a bad argument raises ``ValueError``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import numbers
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from solutions._validate import check_count
from solutions.device import as_device

__all__ = [
    "DatasetError",
    "Split",
    "data_dir",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "make_classification",
    "make_regression",
]

DATA_DIR_ENV = "DLHW_DATA_DIR"
_REPO_ROOT = Path(__file__).resolve().parent.parent


class DatasetError(ValueError):
    """A data file is missing, malformed, or not the file the course ships."""


@dataclass(frozen=True, eq=False)
class Split:
    """A train/test split of one dataset.

    Attributes:
        X_train: (n_train, d) features of the training rows.
        X_test: (n_test, d) features of the test rows.
        y_train: (n_train,) targets of the training rows.
        y_test: (n_test,) targets of the test rows.
        feature_names: the d column names, in the order of the columns of X.
        name: the dataset's name, e.g. ``"diabetes"``.

    ``X_train, X_test, y_train, y_test = split`` unpacks the four tensors.
    """

    X_train: Tensor
    X_test: Tensor
    y_train: Tensor
    y_test: Tensor
    feature_names: tuple[str, ...]
    name: str

    def __iter__(self) -> Iterator[Tensor]:
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def __repr__(self) -> str:
        def describe(t: Tensor) -> str:
            return f"{tuple(t.shape)} {str(t.dtype).removeprefix('torch.')}"

        return (
            f"Split(name={self.name!r}, X_train={describe(self.X_train)}, "
            f"X_test={describe(self.X_test)}, y_train={describe(self.y_train)}, "
            f"y_test={describe(self.y_test)}, device={self.X_train.device})"
        )


# ----------------------------------------------------------------------------------------------
# The data files
# ----------------------------------------------------------------------------------------------

_CELL_FEATURES = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave_points",
    "symmetry",
    "fractal_dimension",
)
_BREAST_CANCER_FEATURES = (
    tuple(f"mean_{f}" for f in _CELL_FEATURES)
    + tuple(f"{f}_error" for f in _CELL_FEATURES)
    + tuple(f"worst_{f}" for f in _CELL_FEATURES)
)
_DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
_DIGITS_FEATURES = tuple(f"pixel_{i}" for i in range(64))


def _diagnosis(text: str) -> float:
    """``M`` (malignant) -> 1.0, ``B`` (benign) -> 0.0."""
    if text not in ("M", "B"):
        raise ValueError(f"diagnosis must be M or B, got {text!r}")
    return 1.0 if text == "M" else 0.0


def _digit_label(text: str) -> int:
    """``"7"`` -> 7; only the digits 0..9."""
    if text not in [str(digit) for digit in range(10)]:
        raise ValueError(f"label must be a digit 0..9, got {text!r}")
    return int(text)


def _number(text: str) -> float:
    """A finite float, or a ``ValueError`` that quotes the text."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


@dataclass(frozen=True)
class _DataFile:
    filename: str
    features: tuple[str, ...]
    target: str  # name of the last column
    n_rows: int
    sha256: str  # of the file's bytes, with Windows line ends (\r\n) counted as \n
    parse_target: Callable[[str], float | int]


# The sha256 values are printed by data/export_from_sklearn.py and listed in data/README.md.
_DIABETES = _DataFile(
    filename="diabetes.csv",
    features=_DIABETES_FEATURES,
    target="target",
    n_rows=442,
    sha256="3b271426c1bd56aebb217e16eb31a4b0f5a5669fe59258d6c6c65411a115cd22",
    parse_target=_number,
)
_BREAST_CANCER = _DataFile(
    filename="breast_cancer.csv",
    features=_BREAST_CANCER_FEATURES,
    target="diagnosis",
    n_rows=569,
    sha256="d1c759cb110155a49fc1e59f67cfc3d74ed15760bff521a451fc64f47af26c05",
    parse_target=_diagnosis,
)
_DIGITS = _DataFile(
    filename="digits.csv",
    features=_DIGITS_FEATURES,
    target="label",
    n_rows=1797,
    sha256="4faf08295f17d77e9a147ed5ea842ec501bd089cc6e61627f36ef15c1b48ea5b",
    parse_target=_digit_label,
)


def data_dir() -> Path:
    """The folder the loaders read: ``$DLHW_DATA_DIR`` if that is set, else the repo's ``data/``."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(override).expanduser() if override else _REPO_ROOT / "data"


def _shown(path: Path) -> str:
    """``data/diabetes.csv`` for a file inside the repository, else the full path."""
    try:
        return path.resolve().relative_to(_REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _read_table(spec: _DataFile) -> tuple[np.ndarray, np.ndarray]:
    """Read and check one CSV file.

    Returns:
        X: (n_rows, d) float64 array of the feature columns.
        y: (n_rows,) array of the last column, float64 (or int64 for integer labels).
    """
    path = data_dir() / spec.filename
    name = _shown(path)
    if not path.is_file():
        raise DatasetError(
            f"{name} not found. The data/ folder ships with the repository: restore it with "
            f"`git checkout -- data/`, or set {DATA_DIR_ENV} to a folder that holds {spec.filename}."
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{name} is not a UTF-8 text file") from None

    header = (*spec.features, spec.target)
    reader = csv.reader(io.StringIO(text))
    rows, targets = [], []
    try:
        first = next(reader, [])
        if tuple(first) != header:
            raise DatasetError(
                f"{name}, line 1: wrong header; expected {len(header)} columns "
                f"{','.join(header[:3])},...,{header[-1]} but got {len(first)} columns "
                f"{','.join(first[:3])},..."
            )
        for row in reader:
            line = reader.line_num
            if len(row) != len(header):
                raise DatasetError(
                    f"{name}, line {line}: {len(row)} columns, expected {len(header)}"
                )
            try:
                rows.append([_number(text) for text in row[:-1]])
                targets.append(spec.parse_target(row[-1]))
            except ValueError as err:
                raise DatasetError(f"{name}, line {line}: {err}") from None
    except csv.Error as err:
        raise DatasetError(f"{name}, line {reader.line_num}: not valid CSV ({err})") from None

    if len(rows) != spec.n_rows:
        raise DatasetError(f"{name} has {len(rows)} data rows, expected {spec.n_rows}")
    digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()
    if digest != spec.sha256:
        raise DatasetError(
            f"{name} has been modified or corrupted (sha256 {digest}, expected {spec.sha256}); "
            f"restore it with `git checkout -- data/{spec.filename}`"
        )
    y_dtype = np.int64 if isinstance(targets[0], int) else np.float64
    return np.array(rows, dtype=np.float64), np.array(targets, dtype=y_dtype)


# ----------------------------------------------------------------------------------------------
# Argument checks, splitting, standardizing
# ----------------------------------------------------------------------------------------------


def _check_float(value, name: str) -> float:
    """A finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_device_dtype(device, dtype) -> tuple[torch.device, torch.dtype]:
    """``device=None`` -> the course default (``solutions.device.default_device()``)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(
            f"dtype must be a floating torch dtype such as torch.float32, got {dtype!r}"
        )
    return as_device(device), dtype


def _check_split_args(test_size, seed, device, dtype) -> tuple[torch.device, torch.dtype]:
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise ValueError(f"test_size must be a number between 0 and 1, got {test_size!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be strictly between 0 and 1, got {test_size!r}")
    check_count(seed, "seed", minimum=0)
    return _check_device_dtype(device, dtype)


def _split_rows(
    n: int, test_size: float, seed: int, labels: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Row indices ``(train, test)`` of a seeded random split.

    Without ``labels``, a fraction ``test_size`` of all rows (rounded) goes to the test set. With
    ``labels`` (stratified), that fraction of each class goes to the test set, so both sets keep
    the class proportions of the whole dataset.
    """
    generator = torch.Generator().manual_seed(seed)
    if labels is None:
        groups = [torch.arange(n)]
    else:
        groups = [torch.nonzero(labels == c).flatten() for c in torch.unique(labels)]
    train, test = [], []
    for rows in groups:
        rows = rows[torch.randperm(len(rows), generator=generator)]
        n_test = round(test_size * len(rows))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    train, test = torch.cat(train), torch.cat(test)
    if len(train) == 0 or len(test) == 0:
        raise ValueError(f"test_size={test_size} leaves an empty train or test set for {n} rows")
    # Shuffle once more, so that the classes are mixed instead of coming one after another.
    train = train[torch.randperm(len(train), generator=generator)]
    test = test[torch.randperm(len(test), generator=generator)]
    return train, test


def _standardize(X_train: Tensor, X_test: Tensor) -> tuple[Tensor, Tensor]:
    """Scale both sets with the TRAIN mean and std (ddof=0); constant columns are only centred."""
    mean = X_train.mean(dim=0)
    std = X_train.std(dim=0, correction=0)
    constant = (X_train == X_train[0]).all(dim=0)
    std = torch.where(constant, torch.ones_like(std), std)
    return (X_train - mean) / std, (X_test - mean) / std


def _make_split(
    spec: _DataFile,
    X: np.ndarray,
    y: np.ndarray,
    *,
    stratify: bool,
    test_size: float,
    seed: int,
    standardize: bool,
    device: torch.device,
    dtype: torch.dtype,
) -> Split:
    X, y = torch.from_numpy(X), torch.from_numpy(y)  # float64 on the CPU
    train, test = _split_rows(len(X), test_size, seed, labels=y if stratify else None)
    X_train, X_test = X[train], X[test]
    if standardize:
        X_train, X_test = _standardize(X_train, X_test)
    y_dtype = dtype if y.is_floating_point() else torch.int64
    return Split(
        X_train=X_train.to(device=device, dtype=dtype),
        X_test=X_test.to(device=device, dtype=dtype),
        y_train=y[train].to(device=device, dtype=y_dtype),
        y_test=y[test].to(device=device, dtype=y_dtype),
        feature_names=spec.features,
        name=spec.filename.removesuffix(".csv"),
    )


# ----------------------------------------------------------------------------------------------
# The loaders
# ----------------------------------------------------------------------------------------------


def load_diabetes(
    *,
    test_size: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
    device=None,
    dtype: torch.dtype = torch.float64,
) -> Split:
    """Load the diabetes regression data (Efron et al., 2004), split into train and test.

    442 patients, 10 features measured at baseline: age, sex, bmi, bp and six blood serum
    measurements s1..s6 (raw values, not scikit-learn's pre-scaled version). The target is a
    measure of disease progression one year later (25..346).

    Args:
        test_size: fraction of the rows that goes to the test set, 0 < test_size < 1.
        seed: seed of the random split; the same seed gives the same split.
        standardize: scale every feature column with the training set's mean and standard
            deviation (population std, ddof=0), so the training columns have mean 0 and std 1.
            The test set uses the same training statistics. y is never scaled.
        device: where the tensors go; None means CUDA if available, else CPU.
        dtype: floating dtype of X and y.

    Returns:
        Split with X_train: (n_train, 10), X_test: (n_test, 10), y_train: (n_train,),
        y_test: (n_test,); n_test = round(442 * test_size), e.g. 88 for the default.
    """
    device, dtype = _check_split_args(test_size, seed, device, dtype)
    X, y = _read_table(_DIABETES)
    return _make_split(
        _DIABETES,
        X,
        y,
        stratify=False,
        test_size=test_size,
        seed=seed,
        standardize=standardize,
        device=device,
        dtype=dtype,
    )


def load_breast_cancer(
    *,
    test_size: float = 0.2,
    seed: int = 0,
    standardize: bool = True,
    device=None,
    dtype: torch.dtype = torch.float64,
) -> Split:
    """Load the breast cancer Wisconsin (diagnostic) data, split into train and test.

    569 tumours, 30 features computed from a microscope image of a fine needle aspirate: the
    mean, standard error and worst value of 10 properties of the cell nuclei (radius, texture,
    ...). The target is y = 1.0 for malignant (212 tumours) and 0.0 for benign (357).

    The split is stratified: train and test keep the malignant/benign proportions.

    Args:
        test_size: fraction of each class that goes to the test set, 0 < test_size < 1.
        seed: seed of the random split; the same seed gives the same split.
        standardize: scale every feature column with the training set's mean and standard
            deviation (ddof=0); the test set uses the same training statistics.
        device: where the tensors go; None means CUDA if available, else CPU.
        dtype: floating dtype of X and y.

    Returns:
        Split with X_train: (n_train, 30), X_test: (n_test, 30), y_train: (n_train,),
        y_test: (n_test,), y in {0.0, 1.0}.
    """
    device, dtype = _check_split_args(test_size, seed, device, dtype)
    X, y = _read_table(_BREAST_CANCER)
    return _make_split(
        _BREAST_CANCER,
        X,
        y,
        stratify=True,
        test_size=test_size,
        seed=seed,
        standardize=standardize,
        device=device,
        dtype=dtype,
    )


def load_digits(
    *,
    test_size: float = 0.2,
    seed: int = 0,
    standardize: bool = False,
    scale: bool = True,
    device=None,
    dtype: torch.dtype = torch.float64,
) -> Split:
    """Load the 8x8 handwritten digits, split into train and test.

    1797 grayscale images of 8x8 pixels, flattened row by row into 64 features
    (``X[i].reshape(8, 8)`` is the image). Each raw pixel is an integer 0..16. The target is the
    digit, an int64 label 0..9. The split is stratified: every digit keeps its proportion.

    Args:
        test_size: fraction of each class that goes to the test set, 0 < test_size < 1.
        seed: seed of the random split; the same seed gives the same split.
        standardize: scale every pixel column with the training set's mean and std (ddof=0).
            Off by default: pixels already share one scale. Pixels that are constant in the
            training set (e.g. always 0) are only centred.
        scale: divide the pixels by 16, so they lie in [0, 1]. Applied before ``standardize``.
        device: where the tensors go; None means CUDA if available, else CPU.
        dtype: floating dtype of X (y is always int64).

    Returns:
        Split with X_train: (n_train, 64), X_test: (n_test, 64), y_train: (n_train,) int64,
        y_test: (n_test,) int64.
    """
    device, dtype = _check_split_args(test_size, seed, device, dtype)
    X, y = _read_table(_DIGITS)
    if scale:
        X = X / 16.0
    return _make_split(
        _DIGITS,
        X,
        y,
        stratify=True,
        test_size=test_size,
        seed=seed,
        standardize=standardize,
        device=device,
        dtype=dtype,
    )


# ----------------------------------------------------------------------------------------------
# Synthetic data
# ----------------------------------------------------------------------------------------------


def make_regression(
    n_samples: int = 100,
    n_features: int = 3,
    *,
    noise: float = 0.1,
    seed: int = 0,
    device=None,
    dtype: torch.dtype = torch.float64,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Random data from a known linear model: ``y = X @ w_true + b_true + noise * N(0, 1)``.

    X, w_true and b_true are drawn from a standard normal distribution, as is the noise.

    Args:
        n_samples: number of rows n.
        n_features: number of features d.
        noise: standard deviation of the noise added to y (0 gives an exact linear relation).
        seed: the same seed gives the same data on every device.
        device: where the tensors go; None means CUDA if available, else CPU.
        dtype: floating dtype of all four tensors.

    Returns:
        X: (n, d) features.
        y: (n,) targets.
        w_true: (d,) the true weights.
        b_true: () the true bias, a 0-dimensional tensor.
    """
    n = check_count(n_samples, "n_samples", minimum=1)
    d = check_count(n_features, "n_features", minimum=1)
    noise = _check_float(noise, "noise")
    check_count(seed, "seed", minimum=0)
    device, dtype = _check_device_dtype(device, dtype)

    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=generator, dtype=torch.float64)
    w_true = torch.randn(d, generator=generator, dtype=torch.float64)
    b_true = torch.randn((), generator=generator, dtype=torch.float64)
    y = X @ w_true + b_true + noise * torch.randn(n, generator=generator, dtype=torch.float64)
    return tuple(t.to(device=device, dtype=dtype) for t in (X, y, w_true, b_true))


def make_classification(
    n_samples: int = 100,
    n_features: int = 2,
    *,
    separation: float = 2.0,
    seed: int = 0,
    device=None,
    dtype: torch.dtype = torch.float64,
) -> tuple[Tensor, Tensor]:
    """Two Gaussian blobs, one per class, for binary classification.

    Each class is a standard normal cloud (identity covariance). The two centres lie at
    ``-separation/2`` and ``+separation/2`` along the diagonal direction (1, 1, ..., 1) / sqrt(d),
    so they are ``separation`` apart: 0 gives two identical clouds, 4 or more gives almost
    separable classes. Half the rows are class 1 (``n_samples // 2``), in random order.

    Args:
        n_samples: number of rows n (at least 2, so both classes occur).
        n_features: number of features d.
        separation: distance between the two class centres, >= 0.
        seed: the same seed gives the same data on every device.
        device: where the tensors go; None means CUDA if available, else CPU.
        dtype: floating dtype of X and y.

    Returns:
        X: (n, d) features.
        y: (n,) labels, 0.0 or 1.0.
    """
    n = check_count(n_samples, "n_samples", minimum=2)
    d = check_count(n_features, "n_features", minimum=1)
    separation = _check_float(separation, "separation")
    check_count(seed, "seed", minimum=0)
    device, dtype = _check_device_dtype(device, dtype)

    generator = torch.Generator().manual_seed(seed)
    y = torch.zeros(n, dtype=torch.float64)
    y[: n // 2] = 1.0
    y = y[torch.randperm(n, generator=generator)]
    direction = torch.ones(d, dtype=torch.float64) / math.sqrt(d)
    centres = (y - 0.5)[:, None] * separation * direction  # (n, d): ±separation/2 along direction
    X = centres + torch.randn(n, d, generator=generator, dtype=torch.float64)
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)

"""Tests of solutions/datasets.py: the course's real datasets and the synthetic generators.

The known facts checked here (row counts, class counts, target range, first rows) come from the
datasets' original documentation, and the CSV files are read independently of the loader (with the
csv module), so a loader that drops, duplicates, reorders or mislabels rows fails.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from solutions import datasets
from solutions.datasets import (
    DatasetError,
    Split,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_regression,
)
from solutions.device import default_device

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = ("diabetes.csv", "breast_cancer.csv", "digits.csv")
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # UCI optdigits.tes


@pytest.fixture(autouse=True)
def _repo_data(monkeypatch):
    """Every test reads the repository's data/ unless it sets DLHW_DATA_DIR itself."""
    monkeypatch.delenv("DLHW_DATA_DIR", raising=False)


def read_csv(name: str) -> tuple[list[str], np.ndarray]:
    """The header and the rows of data/<name> as a float array (M -> 1, B -> 0), without the loader."""
    with open(DATA / name, newline="", encoding="ascii") as f:
        header, *rows = list(csv.reader(f))
    codes = {"M": "1", "B": "0"}
    return header, np.array([[codes.get(v, v) for v in row] for row in rows], dtype=np.float64)


def sorted_rows(a: np.ndarray) -> np.ndarray:
    """The rows of a 2-D array in lexicographic order, to compare two arrays as multisets of rows."""
    return a[np.lexsort(a.T[::-1])]


def whole(split: Split) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test rows put back together: X (n, d), y (n,)."""
    return torch.cat([split.X_train, split.X_test]), torch.cat([split.y_train, split.y_test])


def copy_data(tmp_path: Path, monkeypatch) -> Path:
    """Copy data/*.csv into tmp_path and point DLHW_DATA_DIR at it."""
    for name in FILES:
        shutil.copy(DATA / name, tmp_path / name)
    monkeypatch.setenv("DLHW_DATA_DIR", str(tmp_path))
    return tmp_path


# ----------------------------------------------------------------------------------------------
# Known facts of the real data
# ----------------------------------------------------------------------------------------------


def test_diabetes_known_facts():
    split = load_diabetes(standardize=False, device="cpu")
    X, y = whole(split)
    assert X.shape == (442, 10) and y.shape == (442,)
    assert X.dtype == y.dtype == torch.float64
    assert split.name == "diabetes"
    assert split.feature_names == ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
    assert y.min().item() == 25 and y.max().item() == 346
    assert set(X[:, 1].tolist()) == {1.0, 2.0}  # sex is coded 1 / 2 in the raw data
    # First patient of Efron et al.'s table: age 59, sex 2, bmi 32.1, ..., progression 151.
    first = torch.tensor([59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87], dtype=torch.float64)
    match = (X == first).all(dim=1)
    assert match.sum() == 1 and y[match].item() == 151


def test_breast_cancer_known_facts():
    split = load_breast_cancer(standardize=False, device="cpu")
    X, y = whole(split)
    assert X.shape == (569, 30) and y.shape == (569,)
    assert split.name == "breast_cancer"
    assert len(split.feature_names) == 30
    assert split.feature_names[0] == "mean_radius"
    assert split.feature_names[10] == "radius_error"
    assert split.feature_names[20] == "worst_radius"
    assert read_csv("breast_cancer.csv")[0] == [*split.feature_names, "diagnosis"]
    assert set(y.tolist()) == {0.0, 1.0}
    assert y.sum().item() == 212  # 212 malignant (y = 1), 357 benign
    # First case of the UCI file (ID 842302): mean radius 17.99, mean texture 10.38, malignant.
    match = (X[:, 0] == 17.99) & (X[:, 1] == 10.38)
    assert match.sum() == 1 and y[match].item() == 1.0


def test_digits_known_facts():
    raw = load_digits(scale=False, device="cpu")
    X, y = whole(raw)
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert y.dtype == torch.int64 and X.dtype == torch.float64
    assert raw.feature_names == tuple(f"pixel_{i}" for i in range(64))
    assert torch.equal(X, X.round())
    assert X.min().item() == 0 and X.max().item() == 16
    assert torch.bincount(y).tolist() == DIGIT_COUNTS

    scaled = load_digits(device="cpu")  # scale=True is the default
    assert scaled.X_train.max().item() == 1.0
    assert torch.equal(scaled.X_train, raw.X_train / 16)


def test_recorded_checksums_match_files_and_readme():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for spec in (datasets._DIABETES, datasets._BREAST_CANCER, datasets._DIGITS):
        assert hashlib.sha256((DATA / spec.filename).read_bytes()).hexdigest() == spec.sha256
        assert spec.sha256 in readme


# ----------------------------------------------------------------------------------------------
# Splitting
# ----------------------------------------------------------------------------------------------

LOADERS = {
    "diabetes.csv": (load_diabetes, {"standardize": False}),
    "breast_cancer.csv": (load_breast_cancer, {"standardize": False}),
    "digits.csv": (load_digits, {"scale": False}),
}


@pytest.mark.parametrize("name", FILES)
def test_split_is_a_partition_of_the_file(name):
    load, options = LOADERS[name]
    split = load(device="cpu", **options)
    X, y = whole(split)
    _, table = read_csv(name)
    n = len(table)
    assert len(split.X_test) == len(split.y_test)
    assert len(split.X_train) == len(split.y_train) == n - len(split.X_test)
    assert abs(len(split.X_test) - 0.2 * n) <= 5  # 20 % (rounded per class when stratified)
    # Train and test together hold every row of the file exactly once.
    rows = torch.cat([X, y[:, None].to(X.dtype)], dim=1).numpy()
    np.testing.assert_array_equal(sorted_rows(rows), sorted_rows(table))


def test_test_size_sets_the_number_of_test_rows():
    for test_size, n_test in [(0.1, 44), (0.5, 221), (0.8, 354)]:
        split = load_diabetes(test_size=test_size, device="cpu")
        assert len(split.X_test) == n_test and len(split.X_train) == 442 - n_test


@pytest.mark.parametrize("load", [load_diabetes, load_breast_cancer, load_digits])
def test_same_seed_same_split_other_seed_other_split(load):
    a, b = load(seed=3, device="cpu"), load(seed=3, device="cpu")
    assert all(torch.equal(s, t) for s, t in zip(a, b, strict=True))
    c = load(seed=4, device="cpu")
    assert not torch.equal(a.y_train, c.y_train) or not torch.equal(a.X_train, c.X_train)
    assert not torch.equal(a.X_test, c.X_test)


def test_breast_cancer_split_is_stratified():
    split = load_breast_cancer(device="cpu")
    # round(0.2 * 212) = 42 of the malignant and round(0.2 * 357) = 71 of the benign tumours.
    assert split.y_test.sum().item() == 42 and len(split.y_test) == 42 + 71
    assert split.y_train.sum().item() == 212 - 42
    for seed in range(5):
        split = load_breast_cancer(test_size=0.3, seed=seed, device="cpu")
        for y in (split.y_train, split.y_test):
            assert abs(y.mean().item() - 212 / 569) < 0.005
    # The classes are mixed, not one block after the other.
    assert not torch.equal(split.y_train, split.y_train.sort().values)


def test_digits_split_is_stratified():
    for test_size in (0.2, 0.5):
        split = load_digits(test_size=test_size, seed=1, device="cpu")
        test_counts = torch.bincount(split.y_test, minlength=10).tolist()
        train_counts = torch.bincount(split.y_train, minlength=10).tolist()
        for n_class, n_test, n_train in zip(DIGIT_COUNTS, test_counts, train_counts, strict=True):
            assert abs(n_test - test_size * n_class) <= 0.5
            assert n_train + n_test == n_class


# ----------------------------------------------------------------------------------------------
# Standardizing, devices, dtypes, the Split object
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("load", [load_diabetes, load_breast_cancer])
def test_standardize_uses_training_statistics(load):
    std = load(seed=2, device="cpu")  # standardize=True is the default
    raw = load(seed=2, standardize=False, device="cpu")
    torch.testing.assert_close(std.X_train.mean(dim=0), torch.zeros(std.X_train.shape[1]).double())
    torch.testing.assert_close(
        std.X_train.std(dim=0, correction=0), torch.ones(std.X_train.shape[1]).double()
    )
    # The test set is scaled with the TRAIN mean and std (population std), not with its own.
    mean, sd = raw.X_train.mean(dim=0), raw.X_train.std(dim=0, correction=0)
    torch.testing.assert_close(std.X_test, (raw.X_test - mean) / sd)
    assert std.X_test.mean(dim=0).abs().max() > 1e-3  # so the test set is not exactly centred
    # Targets are never scaled.
    assert torch.equal(std.y_train, raw.y_train) and torch.equal(std.y_test, raw.y_test)


def test_standardize_leaves_constant_columns_unscaled():
    split = load_digits(standardize=True, device="cpu")
    assert torch.isfinite(split.X_train).all() and torch.isfinite(split.X_test).all()
    constant = (split.X_train == split.X_train[0]).all(dim=0)
    assert constant[0]  # pixel_0 (a corner) is 0 in every image
    assert (split.X_train[:, constant] == 0).all()
    torch.testing.assert_close(
        split.X_train[:, ~constant].std(dim=0, correction=0),
        torch.ones(int((~constant).sum())).double(),
    )


def test_device_and_dtype_are_honoured():
    split = load_diabetes(device="cpu", dtype=torch.float32)
    for t in split:
        assert t.device == torch.device("cpu") and t.dtype == torch.float32
    reference = load_diabetes(device=torch.device("cpu"))
    torch.testing.assert_close(split.X_train, reference.X_train.float())

    digits = load_digits(device="cpu", dtype=torch.float32)
    assert digits.X_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_gives_the_same_numbers_as_cpu():
    gpu, cpu = load_breast_cancer(device="cuda"), load_breast_cancer(device="cpu")
    for g, c in zip(gpu, cpu, strict=True):
        assert g.is_cuda and torch.equal(g.cpu(), c)
    for g, c in zip(make_regression(device="cuda"), make_regression(device="cpu"), strict=True):
        assert g.is_cuda and torch.equal(g.cpu(), c)


def test_device_none_means_default_device(monkeypatch):
    monkeypatch.delenv("DLHW_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert default_device().type == expected
    assert load_diabetes().X_train.device.type == expected

    monkeypatch.setenv("DLHW_DEVICE", "cpu")
    assert default_device() == torch.device("cpu")
    assert load_diabetes().X_train.device == torch.device("cpu")
    assert make_regression()[0].device == torch.device("cpu")

    monkeypatch.setenv("DLHW_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="DLHW_DEVICE"):
        default_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("DLHW_DEVICE", "cuda")
        with pytest.raises(ValueError, match="CUDA"):
            default_device()


def test_split_unpacks_and_is_frozen():
    split = load_diabetes(device="cpu")
    X_train, X_test, y_train, y_test = split
    assert X_train is split.X_train and X_test is split.X_test
    assert y_train is split.y_train and y_test is split.y_test
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.X_train = X_test
    assert "diabetes" in repr(split) and "(354, 10)" in repr(split) and len(repr(split)) < 300


# ----------------------------------------------------------------------------------------------
# The data folder and broken files
# ----------------------------------------------------------------------------------------------


def test_data_dir_override_reads_the_other_folder(tmp_path, monkeypatch):
    copy_data(tmp_path, monkeypatch)
    assert datasets.data_dir() == tmp_path
    copied = load_digits(device="cpu")
    monkeypatch.delenv("DLHW_DATA_DIR")
    original = load_digits(device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(copied, original, strict=True))


def test_missing_file_names_the_path_and_the_override(tmp_path, monkeypatch):
    monkeypatch.setenv("DLHW_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError) as info:
        load_breast_cancer(device="cpu")
    message = str(info.value)
    assert str(tmp_path / "breast_cancer.csv") in message
    assert "not found" in message and "DLHW_DATA_DIR" in message
    assert isinstance(info.value, ValueError)


def test_modified_file_fails_the_checksum(tmp_path, monkeypatch):
    folder = copy_data(tmp_path, monkeypatch)
    path = folder / "diabetes.csv"
    text = path.read_text()
    assert "\n59,2,32.1,101,157,93.2,38,4,4.8598,87,151\n" in text
    path.write_text(text.replace("4.8598,87,151\n", "4.8598,87,152\n", 1))  # still valid CSV
    with pytest.raises(
        DatasetError, match=r"diabetes\.csv has been modified or corrupted \(sha256"
    ):
        load_diabetes(device="cpu")


def test_windows_line_ends_still_load(tmp_path, monkeypatch):
    folder = copy_data(tmp_path, monkeypatch)
    path = folder / "breast_cancer.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_breast_cancer(device="cpu").y_train.sum().item() == 212 - 42


def edit_line(path: Path, line: int, edit) -> None:
    """Replace line number ``line`` (1 = header) of ``path`` by ``edit(old_line)``."""
    lines = path.read_text().split("\n")
    lines[line - 1] = edit(lines[line - 1])
    path.write_text("\n".join(lines))


MALFORMED = [
    # (file, line to edit, edit, expected words in the message)
    ("diabetes.csv", 1, lambda s: s.replace("bmi", "BMI"), ["line 1", "header"]),
    ("diabetes.csv", 5, lambda s: s.rsplit(",", 1)[0], ["line 5", "10 columns, expected 11"]),
    ("diabetes.csv", 7, lambda s: "abc" + s[s.index(",") :], ["line 7", "'abc' is not a number"]),
    ("diabetes.csv", 3, lambda s: "nan" + s[s.index(",") :], ["line 3", "not a finite number"]),
    ("breast_cancer.csv", 4, lambda s: s[:-1] + "X", ["line 4", "M or B"]),
    ("digits.csv", 9, lambda s: s + ",0", ["line 9", "66 columns, expected 65"]),
    ("digits.csv", 12, lambda s: s.rsplit(",", 1)[0] + ",10", ["line 12", "0..9"]),
]


@pytest.mark.parametrize(("name", "line", "edit", "words"), MALFORMED)
def test_malformed_csv_names_the_line(tmp_path, monkeypatch, name, line, edit, words):
    path = copy_data(tmp_path, monkeypatch) / name
    edit_line(path, line, edit)
    load = LOADERS[name][0]
    with pytest.raises(DatasetError) as info:
        load(device="cpu")
    message = str(info.value)
    assert name in message
    for word in words:
        assert word in message


def test_truncated_or_unreadable_file(tmp_path, monkeypatch):
    path = copy_data(tmp_path, monkeypatch) / "diabetes.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-10]))
    with pytest.raises(DatasetError, match="432 data rows, expected 442"):
        load_diabetes(device="cpu")
    path.write_text("")
    with pytest.raises(DatasetError, match="line 1: wrong header"):
        load_diabetes(device="cpu")
    path.write_bytes(b"\xff\xfe" + b"age")
    with pytest.raises(DatasetError, match="UTF-8"):
        load_diabetes(device="cpu")


@pytest.mark.parametrize("test_size", [0, 1, -0.1, 1.5, float("nan"), "0.2", True, None])
def test_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        load_diabetes(test_size=test_size, device="cpu")


def test_test_size_too_small_for_the_data():
    with pytest.raises(ValueError, match="empty"):
        load_diabetes(test_size=0.001, device="cpu")


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        load_breast_cancer(seed=seed, device="cpu")


def test_bad_device_or_dtype():
    with pytest.raises(ValueError, match="dtype"):
        load_diabetes(device="cpu", dtype=torch.int64)
    with pytest.raises(ValueError, match="device"):
        load_diabetes(device="gpu-please")


# ----------------------------------------------------------------------------------------------
# Synthetic data
# ----------------------------------------------------------------------------------------------


def test_make_regression_shapes_and_exact_relation_without_noise():
    X, y, w_true, b_true = make_regression(50, 4, noise=0.0, device="cpu")
    assert X.shape == (50, 4) and y.shape == (50,) and w_true.shape == (4,) and b_true.shape == ()
    assert all(t.dtype == torch.float64 for t in (X, y, w_true, b_true))
    torch.testing.assert_close(y, X @ w_true + b_true, rtol=0, atol=1e-12)


def test_make_regression_noise_has_the_requested_std():
    X, y, w_true, b_true = make_regression(5000, 3, noise=0.5, seed=1, device="cpu")
    residual = y - (X @ w_true + b_true)
    assert 0.47 < residual.std().item() < 0.53
    assert abs(residual.mean().item()) < 0.03


def test_make_regression_is_seeded():
    a, b = make_regression(seed=7, device="cpu"), make_regression(seed=7, device="cpu")
    assert all(torch.equal(s, t) for s, t in zip(a, b, strict=True))
    c = make_regression(seed=8, device="cpu")
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[2], c[2])
    # float32 is the float64 data rounded: drawn once, then converted.
    f32 = make_regression(seed=7, device="cpu", dtype=torch.float32)
    assert all(
        s.dtype == torch.float32 and torch.equal(s, t.float()) for s, t in zip(f32, a, strict=True)
    )


def test_make_classification_blobs():
    X, y = make_classification(4000, 3, separation=3.0, seed=1, device="cpu")
    assert X.shape == (4000, 3) and y.shape == (4000,) and y.dtype == torch.float64
    assert set(y.tolist()) == {0.0, 1.0} and y.sum().item() == 2000
    assert not torch.equal(y, y.sort().values)  # classes in random order
    centre_1, centre_0 = X[y == 1].mean(dim=0), X[y == 0].mean(dim=0)
    assert abs(torch.linalg.norm(centre_1 - centre_0).item() - 3.0) < 0.15
    for cls in (0, 1):  # unit variance within each class
        torch.testing.assert_close(
            X[y == cls].std(dim=0), torch.ones(3).double(), atol=0.06, rtol=0
        )


def test_make_classification_is_seeded():
    a, b = make_classification(seed=5, device="cpu"), make_classification(seed=5, device="cpu")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = make_classification(seed=6, device="cpu")
    assert not torch.equal(a[0], c[0])
    X, y = make_classification(10, 2, device="cpu", dtype=torch.float32)
    assert X.dtype == y.dtype == torch.float32


@pytest.mark.parametrize(
    ("make", "kwargs", "word"),
    [
        (make_regression, {"n_samples": 0}, "n_samples"),
        (make_regression, {"n_features": 1.5}, "n_features"),
        (make_regression, {"noise": -1.0}, "noise"),
        (make_regression, {"seed": -3}, "seed"),
        (make_classification, {"n_samples": 1}, "n_samples"),
        (make_classification, {"separation": float("inf")}, "separation"),
        (make_classification, {"dtype": torch.int32}, "dtype"),
    ],
)
def test_synthetic_bad_arguments(make, kwargs, word):
    with pytest.raises(ValueError, match=word):
        make(device="cpu", **kwargs)

"""Model storage: skops payload + sha256 in DuckDB; a tampered row fails clearly, runs no code.

(No ``from __future__ import annotations``: Dagster resolves the model annotations at definition.)
"""

import hashlib
import json

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestRegressor

from sales_platform.storage import (
    ModelIntegrityError,
    SalesDuckDBIOManager,
    UntrustedModelTypesError,
    read_table,
    type_name,
)

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
TREE = "sklearn.tree._tree.Tree"  # the one type in a forest that skops does not trust by default
CODE_RAN: list[str] = []


class TinyForecaster:
    """Stands in for forecasting's FittedForecaster: an estimator plus what it needs."""

    def __init__(self, estimator, features: list[str], horizon: int):
        self.estimator = estimator
        self.features = features
        self.horizon = horizon
        self.weights = np.linspace(0, 1, 5)
        self.metadata = {"features": features, "trained_rows": 40, "version": "test"}

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.estimator.predict(x) + self.weights.sum()


class Helper:
    """A type nobody put in the trusted list."""

    def __init__(self):
        self.x = 1


class Evil:
    """Loading this would run code (``__setstate__``): it must never be loaded."""

    def __init__(self):
        self.payload = "rm -rf /"

    def __setstate__(self, state):
        CODE_RAN.append("Evil.__setstate__")
        self.__dict__.update(state)


def _forest(seed: int = 0) -> RandomForestRegressor:
    rng = np.random.default_rng(seed)
    x, y = rng.random((40, 3)), rng.random(40)
    return RandomForestRegressor(n_estimators=3, max_depth=3, random_state=seed).fit(x, y)


X = np.random.default_rng(1).random((5, 3))


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def _io(db, model_cls, trusted=(TREE,)) -> SalesDuckDBIOManager:
    return SalesDuckDBIOManager(
        database=str(db), model_types=[type_name(model_cls)], trusted_model_types=list(trusted)
    )


def _model_assets(model_cls, make, seen):
    @dg.asset(name="model")
    def model() -> model_cls:  # type: ignore[valid-type]
        return make()

    @dg.asset(name="uses_model")
    def uses_model(model: model_cls) -> pd.DataFrame:  # type: ignore[valid-type]
        seen["model"] = model
        return pd.DataFrame({"prediction": model.predict(X)})

    return model, uses_model


def test_random_forest_roundtrip(tmp_path, instance):
    db = tmp_path / "m.duckdb"
    forest, seen = _forest(), {}
    model, uses = _model_assets(RandomForestRegressor, lambda: forest, seen)
    result = dg.materialize(
        [model, uses],
        resources={"io_manager": _io(db, RandomForestRegressor)},
        instance=instance,
        run_config=QUIET,
    )
    assert result.success
    assert isinstance(seen["model"], RandomForestRegressor)
    np.testing.assert_allclose(seen["model"].predict(X), forest.predict(X))
    np.testing.assert_allclose(read_table(db, "uses_model")["prediction"], forest.predict(X))
    row = read_table(db, "model")
    assert len(row) == 1
    assert row["sha256"][0] == hashlib.sha256(bytes(row["data"][0])).hexdigest()
    assert row["model_type"][0] == "sklearn.ensemble._forest.RandomForestRegressor"
    meta = result.asset_materializations_for_node("model")[0].metadata
    assert meta["model_sha256"].value == row["sha256"][0]


def test_custom_model_class_roundtrip_with_metadata(tmp_path, instance):
    db = tmp_path / "m.duckdb"
    original, seen = TinyForecaster(_forest(), ["lag_7", "dow", "promo"], 30), {}
    model, uses = _model_assets(TinyForecaster, lambda: original, seen)
    io = _io(db, TinyForecaster)
    assert dg.materialize(
        [model, uses], resources={"io_manager": io}, instance=instance, run_config=QUIET
    ).success
    loaded = seen["model"]
    assert type(loaded) is TinyForecaster
    assert (loaded.features, loaded.horizon) == (original.features, 30)
    np.testing.assert_allclose(loaded.predict(X), original.predict(X))
    stored = json.loads(read_table(db, "model")["metadata"][0])
    assert stored == {"features": ["lag_7", "dow", "promo"], "trained_rows": 40, "version": "test"}


def test_model_with_untrusted_types_is_not_stored(tmp_path, instance):
    db = tmp_path / "m.duckdb"
    good = TinyForecaster(_forest(), ["a"], 7)
    holder = {"m": good}
    model, _ = _model_assets(TinyForecaster, lambda: holder["m"], {})
    io = _io(db, TinyForecaster)
    assert dg.materialize(
        [model], resources={"io_manager": io}, instance=instance, run_config=QUIET
    ).success
    sha_before = read_table(db, "model")["sha256"][0]

    bad = TinyForecaster(_forest(), ["a"], 7)
    bad.helper = Helper()  # a type that is not trusted
    holder["m"] = bad
    with pytest.raises(UntrustedModelTypesError, match=r"main\.model.*Helper"):
        dg.materialize([model], resources={"io_manager": io}, instance=instance, run_config=QUIET)
    # a forest without the Tree type trusted is refused too
    with pytest.raises(UntrustedModelTypesError, match="sklearn.tree._tree.Tree"):
        holder["m"] = good
        dg.materialize(
            [model],
            resources={"io_manager": _io(db, TinyForecaster, trusted=())},
            instance=instance,
            run_config=QUIET,
        )
    assert read_table(db, "model")["sha256"][0] == sha_before


def _tamper_flip_byte(conn):
    data = bytearray(conn.execute("SELECT data FROM model").fetchone()[0])
    data[len(data) // 2] ^= 0xFF
    conn.execute("UPDATE model SET data = ?", [bytes(data)])


def _tamper_hash_only(conn):
    conn.execute("UPDATE model SET sha256 = ?", [hashlib.sha256(b"something else").hexdigest()])


def _tamper_evil_payload(conn):
    # an attacker who can write the file replaces the payload AND its hash
    data = sio.dumps(Evil())
    conn.execute("UPDATE model SET data = ?, sha256 = ?", [data, hashlib.sha256(data).hexdigest()])


def _tamper_garbage(conn):
    data = b"PK\x03\x04 not really a zip archive"
    conn.execute("UPDATE model SET data = ?, sha256 = ?", [data, hashlib.sha256(data).hexdigest()])


def _tamper_two_rows(conn):
    conn.execute("INSERT INTO model SELECT * FROM model")


def _tamper_null_hash(conn):
    conn.execute("UPDATE model SET sha256 = NULL")


@pytest.mark.parametrize(
    ("tamper", "error", "pattern"),
    [
        (_tamper_flip_byte, ModelIntegrityError, "sha256 of the stored bytes .* does not match"),
        (_tamper_hash_only, ModelIntegrityError, "does not match the recorded sha256"),
        (_tamper_evil_payload, UntrustedModelTypesError, "untrusted types .*Evil"),
        (_tamper_garbage, ModelIntegrityError, "not a readable skops payload"),
        (_tamper_two_rows, ModelIntegrityError, "has 2 rows, expected exactly 1"),
        (_tamper_null_hash, ModelIntegrityError, "missing"),
    ],
    ids=["flipped-byte", "hash-changed", "evil-payload-rehashed", "garbage", "two-rows", "null"],
)
def test_tampered_model_fails_to_load_without_running_code(
    tmp_path, instance, tamper, error, pattern
):
    db = tmp_path / "m.duckdb"
    model, uses = _model_assets(TinyForecaster, lambda: TinyForecaster(_forest(), ["a"], 7), {})
    io = _io(db, TinyForecaster)
    assert dg.materialize(
        [model], resources={"io_manager": io}, instance=instance, run_config=QUIET
    ).success
    with duckdb.connect(str(db)) as conn:
        tamper(conn)
    CODE_RAN.clear()
    with pytest.raises(error, match=pattern) as err:
        dg.materialize(
            [model, uses],
            resources={"io_manager": io},
            instance=instance,
            run_config=QUIET,
            selection=[uses.key],
        )
    assert "main.model" in str(err.value)
    assert CODE_RAN == []


def test_unannotated_input_of_a_model_table_fails_clearly(tmp_path, instance):
    db = tmp_path / "m.duckdb"
    model, _ = _model_assets(TinyForecaster, lambda: TinyForecaster(_forest(), ["a"], 7), {})

    @dg.asset
    def careless(model) -> pd.DataFrame:  # no annotation: would load as a DataFrame
        return pd.DataFrame()

    io = _io(db, TinyForecaster)
    with pytest.raises(TypeError, match="annotate the input with the model class"):
        dg.materialize(
            [model, careless], resources={"io_manager": io}, instance=instance, run_config=QUIET
        )

"""Rejected-row reporting: each problem of a load as one row ``file, row, column, value, reason``.

`parse_problems` reports the values that do not parse (the ``<field>_err`` columns of the parse
query), `rule_problems` the parsed lines that break a rule of `schema.LINES_SCHEMA` (pandera);
`finish_problems` orders them by file and row and gives them the `rejected` dtypes. ``column`` is
the user's column name and ``value`` the text as read, untrimmed.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from . import schema as S
from .mapping import FIELDS
from .parse import CHECKED

REJECTED_COLUMNS = ["file", "row", "column", "value", "reason"]


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame(columns=["_file_idx", "_seq", *REJECTED_COLUMNS])


def _raw_values(con: duckdb.DuckDBPyConnection, fields: pd.Series, seqs: pd.Series) -> list[Any]:
    """The text as read (untrimmed) of `fields` at the load positions `seqs` of the table raw."""
    values: list[Any] = [None] * len(seqs)
    fields_arr, seqs_arr = np.asarray(fields, dtype=object), np.asarray(seqs, dtype=np.int64)
    for field in pd.unique(fields_arr):
        if field not in FIELDS:
            continue
        where = np.flatnonzero(fields_arr == field)
        con.register("_wanted", pa_arrow.table({"_seq": seqs_arr[where]}))
        found = dict(
            con.execute(
                f"SELECT _seq, {field} FROM raw WHERE _seq IN (SELECT _seq FROM _wanted)"
            ).fetchall()
        )
        con.unregister("_wanted")
        for position in where:
            values[position] = found.get(int(seqs_arr[position]))
    return values


def parse_problems(
    bad: pd.DataFrame, con: duckdb.DuckDBPyConnection, column_of: dict[tuple[int, str], str]
) -> pd.DataFrame:
    """Long frame of the parse-stage problems: one row per (row, field) that failed."""
    if bad.empty:
        return _empty_problems()
    long = bad.melt(
        id_vars=["_seq", "_file_idx", "_file", "_row"],
        value_vars=[f"{f}_err" for f in CHECKED],
        var_name="field",
        value_name="reason",
    ).dropna(subset=["reason"])
    long["field"] = long["field"].str.removesuffix("_err")
    long = long.sort_values(["_seq", "field"], key=_field_order, kind="stable")
    return pd.DataFrame(
        {
            "_file_idx": long["_file_idx"].to_numpy(),
            "_seq": long["_seq"].to_numpy(),
            "file": long["_file"].astype(str).to_numpy(),
            "row": long["_row"].to_numpy(),
            "column": [
                column_of.get((int(i), f), f)
                for i, f in zip(long["_file_idx"], long["field"], strict=True)
            ],
            "value": _raw_values(con, long["field"], long["_seq"]),
            "reason": long["reason"].astype(str).to_numpy(),
        }
    )


def _field_order(column: pd.Series) -> pd.Series:
    if column.name == "field":
        return column.map({f: i for i, f in enumerate(CHECKED)})
    return column


def rule_problems(
    clean: pd.DataFrame, con: duckdb.DuckDBPyConnection, column_of: dict[tuple[int, str], str]
) -> tuple[pd.DataFrame, pd.Series]:
    """Run `LINE_RULES` (pandera) on parsed lines in scope (a chunk of `parse.lines_sql`, whose
    ``_duplicate`` column flags the duplicates of the whole load); failures become problems;
    returns them and a mask of every failing line."""
    bad = pd.Series(False, index=clean.index)
    if clean.empty:
        return _empty_problems(), bad
    found: list[tuple[int, str, str]] = []
    try:
        S.LINE_RULES.validate(clean, lazy=True)
        cases = pd.DataFrame(columns=["check", "index", "column"])
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    for case in cases.itertuples(index=False):
        check = str(case.check)
        if case.index is None or pd.isna(case.index):
            raise RuntimeError(f"order lines failed a table-level rule: {case}")  # a bug, not data
        if check == S.NEGATIVE_AMOUNT:
            if case.column == "amount":  # a wide check reports every column of the row: keep one
                found.append((int(case.index), check, "amount"))
        elif check in S.RULE_FIELD:
            found.append((int(case.index), check, S.RULE_FIELD[check] or str(case.column)))
        else:
            raise RuntimeError(f"unexpected pandera failure on order lines: {case}")
    found.extend(
        (int(i), S.DUPLICATE_LINE, "line_number") for i in clean.index[clean["_duplicate"]]
    )
    if not found:
        return _empty_problems(), bad
    table = pd.DataFrame(found, columns=["idx", "reason", "field"]).drop_duplicates(
        ["idx", "reason"]
    )
    bad.loc[table["idx"].to_numpy()] = True
    part = clean.loc[table["idx"].to_numpy()].reset_index(drop=True)
    table = table.reset_index(drop=True)
    file_idx = part["_file_idx"].astype(int).to_numpy()
    # A derived amount (quantity x unit price) is only negative because the price is: report the
    # price alone.
    derived = np.array([(i, "amount") not in column_of for i in file_idx], dtype=bool)
    keep = ~((table["reason"] == S.NEGATIVE_AMOUNT).to_numpy() & derived)
    part, table, file_idx = part.loc[keep], table.loc[keep], file_idx[keep]
    fields = table["field"].to_numpy(dtype=object)
    values = _raw_values(con, pd.Series(fields), part["_seq"])
    reasons = table["reason"].astype(str).to_numpy(dtype=object)
    duplicated = reasons == S.DUPLICATE_LINE
    if duplicated.any():
        for k in np.flatnonzero(duplicated):
            line = part.iloc[k]
            key = (str(line["order_id"]), int(line["line_number"]))
            f_file, f_row = line["_first_file"], int(line["_first_row"])
            if (int(line["_file_idx"]), "line_number") not in column_of:
                fields[k] = "order_id"
            values[k] = f"order {key[0]} line {key[1]}"
            reasons[k] = f"{S.DUPLICATE_LINE}: first seen at {f_file} row {f_row}"
    problems = pd.DataFrame(
        {
            "_file_idx": file_idx,
            "_seq": part["_seq"].to_numpy(),
            "file": part["_file"].astype(str).to_numpy(),
            "row": part["_row"].to_numpy(),
            "column": [
                column_of.get((int(i), f), f) for i, f in zip(file_idx, fields, strict=True)
            ],
            "value": values,
            "reason": reasons,
        }
    )
    return problems, bad


def finish_problems(problems: pd.DataFrame) -> pd.DataFrame:
    """Sort by file order then row, and give the `rejected` columns their dtypes."""
    if problems.empty:
        out = pd.DataFrame({c: pd.Series(dtype=S.STRING) for c in REJECTED_COLUMNS})
        out["row"] = out["row"].astype("Int64")
        return out
    problems = problems.assign(
        _order=np.arange(len(problems)),
        _rowkey=pd.to_numeric(problems["row"], errors="coerce").fillna(0),
    )
    problems = problems.sort_values(["_file_idx", "_rowkey", "_order"], kind="stable")
    out = problems[REJECTED_COLUMNS].reset_index(drop=True)
    out["row"] = pd.to_numeric(out["row"], errors="coerce").astype("Int64")
    for col in ("file", "column", "value", "reason"):
        out[col] = out[col].map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
        out[col] = out[col].astype(S.STRING)
    return out

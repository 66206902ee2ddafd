"""Recipes for the data files that exist in no repository: the 199-word list and the 88-chip table.

Both are rebuilt byte for byte from files fetched from hawkrobe/color-ref, and the result must match the
sha256 in the manifest. The word type (concrete/abstract) is only in the norming spreadsheet (sheet
"CONCRETE SET" or "ABSTRACT SET"), which is read with the standard library (an .xlsx file is a zip of XML),
so no spreadsheet dependency is needed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["RECIPES", "munsell_chips_88", "read_xlsx_sheets", "word_list_199"]

_STIMULI = "murthy2022-color-ref/stimuli/"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def read_xlsx_sheets(path: Path) -> dict[str, list[dict[str, str]]]:
    """Each sheet of an .xlsx file as rows of ``{column letter: cell text}``.

    Shared strings are resolved; empty cells are left out.
    """
    with zipfile.ZipFile(path) as book:
        shared = [
            "".join(node.text or "" for node in item.iter(f"{_MAIN}t"))
            for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall(f"{_MAIN}si")
        ]
        relations = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target", "") for rel in relations.findall(f"{_PACKAGE_RELS}Relationship")}
        sheets: dict[str, list[dict[str, str]]] = {}
        for sheet in ElementTree.fromstring(book.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
            target = targets[sheet.get(f"{_RELS}id")].lstrip("/")
            member = target if target.startswith("xl/") else f"xl/{target}"
            sheets[sheet.get("name", "")] = _sheet_rows(book.read(member), shared)
    return sheets


def _sheet_rows(xml: bytes, shared: list[str]) -> list[dict[str, str]]:
    rows = []
    for row in ElementTree.fromstring(xml).iter(f"{_MAIN}row"):
        cells = {}
        for cell in row.findall(f"{_MAIN}c"):
            value = cell.find(f"{_MAIN}v")
            if value is None or value.text is None:
                continue
            column = re.match(r"[A-Z]+", cell.get("r", "")).group()  # type: ignore[union-attr]
            cells[column] = shared[int(value.text)] if cell.get("t") == "s" else value.text
        if cells:
            rows.append(cells)
    return rows


def word_list_199(root: Path) -> bytes:
    """``derived_word_list_199.csv``: each word used in Experiment 1 with its type, Glasgow source word and norms.

    Sheet columns: A = Glasgow source word, B/C/D = its imageability/concreteness/familiarity, F = the word
    actually used. "book" is listed twice (concrete); its first row is kept, giving 99 concrete + 100 abstract.
    Rows are sorted by type and word; ``word_set_ids`` are the 40-word sets (0-4) that contain the word.
    """
    sets: dict[str, set[int]] = {}
    for set_id in range(5):
        for item in json.loads((root / f"{_STIMULI}norming-task-word-set-{set_id}.json").read_text("utf-8")):
            sets.setdefault(item["word"], set()).add(set_id)
    sheets = read_xlsx_sheets(root / f"{_STIMULI}normingTask-final-word-list.xlsx")
    records: dict[str, list[str]] = {}
    for sheet_name, word_type in (("CONCRETE SET", "concrete"), ("ABSTRACT SET", "abstract")):
        for row in sheets[sheet_name][1:]:  # row 0 is the header
            word = row["F"].strip()  # a few cells carry a trailing space ("prune ")
            if word not in records:
                records[word] = [word, word_type, row["A"].strip(), *(repr(float(row[c])) for c in "BCD"),
                                 ";".join(str(i) for i in sorted(sets.get(word, ())))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["word", "word_type", "glasgow_source_word", "glasgow_imageability", "glasgow_concreteness",
                     "glasgow_familiarity", "word_set_ids"])
    writer.writerows(sorted(records.values(), key=lambda record: (record[1], record[0])))
    return out.getvalue().encode("utf-8")


def munsell_chips_88(root: Path) -> bytes:
    """``derived_munsell_chips_88.csv``: the 88 chips of the human task (button index, Munsell code, sRGB)."""
    chips = json.loads((root / f"{_STIMULI}munsell-gibson-V1-sorting.json").read_text("utf-8"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["button_pressed", "munsell", "r", "g", "b"])
    for chip in sorted(chips, key=lambda chip: chip["id"]):
        writer.writerow([chip["id"], chip["munsell"], *re.findall(r"\d+", chip["rgb"])])
    return out.getvalue().encode("utf-8")


RECIPES: dict[str, Callable[[Path], bytes]] = {"word_list_199": word_list_199, "munsell_chips_88": munsell_chips_88}

"""`python -m server template FILE` and `python -m server import FILE`: the template goes
through the import with no problems, a dry run writes nothing, and problems are printed as
`sheet:row column value: message` with exit status 1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.cli import main
from server.db.config import tortoise_config
from server.db.models import Recipient
from tests.conftest import open_database


@pytest.fixture
def url(db_url: str) -> str:
    """An empty inventory for the command line to open (PostgreSQL's emptied as the `db`
    fixture empties it: the commands run their own event loop, so not through it)."""

    async def empty() -> None:
        await open_database(db_url)
        await Tortoise.close_connections()

    asyncio.run(empty())
    # Tortoise caches prepared SQL by connection name, not dialect (see conftest's `db`).
    EXECUTOR_CACHE.clear()
    return db_url


def run(url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def recipient_slugs(url: str) -> set[str]:
    async def read() -> set[str]:
        await Tortoise.init(config=tortoise_config(url))
        try:
            return set(await Recipient.all().values_list("slug", flat=True))
        finally:
            await Tortoise.close_connections()

    return asyncio.run(read())


@pytest.mark.parametrize("name", ["inventory.xlsx", "inventory.csv"])
def test_the_template_round_trips_through_the_import(
    url: str, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    assert run(url, "template", str(path), capsys=capsys)[0] == 0
    assert recipient_slugs(url) == set()
    code, out, _ = run(url, "import", str(path), "--dry-run", capsys=capsys)
    assert code == 0, out
    assert "Dry run: no problems, nothing was written." in out
    assert recipient_slugs(url) == set()
    code, out, _ = run(url, "import", str(path), capsys=capsys)
    assert code == 0 and "Imported in one transaction." in out, out
    assert "created: 1, updated: 0, unchanged: 0." in out, out
    assert recipient_slugs(url) == {"acme-mail"}
    code, out, _ = run(url, "import", str(path), capsys=capsys)
    assert code == 0 and "created: 0, updated: 0, unchanged: 1." in out, out


def test_the_xlsx_template_explains_each_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.xlsx"
    assert main(["template", str(path)]) == 0
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Recipients", "Disclosures", "Columns", "Taxonomy"]
    columns = list(book["Columns"].iter_rows(values_only=True))
    kind = next(r for r in columns if r[0] == "Recipients" and r[1] == "Kind")
    assert "Service provider (SERVICE_PROVIDER)" in str(kind[4])
    keys = {r[1] for r in book["Taxonomy"].iter_rows(values_only=True)}
    assert {"user.contact.email", "customer", "essential.service"} <= keys


def test_a_template_is_xlsx_or_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", str(tmp_path / "t.ods")]) == 2
    assert ".xlsx or .csv" in capsys.readouterr().err


def test_problems_are_printed_and_exit_1(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Recipients"
    sheet.append(["Slug", "Name", "Kind", "Role", "Country"])
    sheet.append(["narnia-ltd", "Narnia Ltd", "Acquirer", "Controller", "Narnia"])
    sheet.append(["berlin-gmbh", "Berlin GmbH", "Acquirer", "Controller", "Germany"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    code, out, _ = run(url, "import", str(path), capsys=capsys)
    assert code == 1
    assert "Recipients:2 Country 'Narnia': \"Narnia\" is not a country we know" in out
    assert 'note: Recipients:3 Country: "Germany" read as DE (Germany).' in out
    assert "1 problem(s): nothing was written." in out
    assert not {"narnia-ltd", "berlin-gmbh"} & recipient_slugs(url)


def test_import_needs_a_known_format(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "inventory.txt"
    path.write_text("x")
    code, _, err = run(url, "import", str(path), capsys=capsys)
    assert code == 2 and "--format" in err
    code, _, err = run(url, "import", str(tmp_path / "missing.csv"), capsys=capsys)
    assert code == 2 and "missing.csv" in err

"""`python -m server export ropa|notice [--format F] [--as-of T] [-o FILE]` (issue 16): the
same files GET /exports/ serves, read back with openpyxl and csv and checked against the
fixtures; stdout without -o, never a binary file to a terminal; bad arguments exit 2 with one
line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.cli import main
from server.db.config import tortoise_config
from server.services.fixtures import load_fixtures
from tests.api.test_exports import PAST, PAST_AT, check_record, csv_table, xlsx_table
from tests.fixture_records import FIXTURES


@pytest.fixture
def url(db_url: str) -> str:
    """The test database with the fixtures loaded (quietly: the tests read stdout)."""

    async def load() -> None:
        await Tortoise.init(config=tortoise_config(db_url))
        try:
            loaded = await load_fixtures(FIXTURES)
            assert loaded.errors == [], loaded.summary()
        finally:
            await Tortoise.close_connections()

    # Tortoise caches prepared SQL by connection name, not dialect (see conftest's `db`).
    EXECUTOR_CACHE.clear()
    asyncio.run(load())
    return db_url


def test_the_record_to_a_file_and_to_stdout(
    url: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "record.xlsx"
    code = main(["export", "ropa", "--as-of", PAST, "-o", str(path), "--database-url", url])
    assert code == 0
    assert b"Wrote " in capsysbinary.readouterr().err
    table = xlsx_table(path.read_bytes())
    check_record(table, PAST_AT)
    assert main(["--database-url", url, "export", "ropa", "--format", "csv", "--as-of", PAST]) == 0
    assert csv_table(capsysbinary.readouterr().out) == table


def test_the_notice_as_markdown_and_html(
    url: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["--database-url", url, "export", "notice", "--as-of", "2023-06-01"]) == 0
    markdown = capsysbinary.readouterr().out.decode()
    assert markdown.startswith("## Disclosure of your information")
    assert "as it stood on 1 June 2023, 00:00 UTC" in markdown
    assert main(["--database-url", url, "export", "notice", "--format", "HTML"]) == 0
    assert b"<h2>International transfers</h2>" in capsysbinary.readouterr().out


def test_a_binary_file_is_never_written_to_a_terminal(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["--database-url", url, "export", "ropa"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "binary file" in err and "-o FILE" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ropa", "--as-of", "last tuesday"], "--as-of must be an ISO 8601 date"),
        (["ropa", "--as-of", "2300-01-01"], "outside the years 1900-2200"),
        (["ropa", "--format", "pdf"], "ropa is written as xlsx, csv, not 'pdf'"),
        (["notice", "--format", "xlsx"], "notice is written as md, html"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    url: str, args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", url, "export", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert says in err and err.count("\n") == 1


def test_an_unknown_kind_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "sbom"])
    assert exit_.value.code == 2
    assert "invalid choice: 'sbom'" in capsys.readouterr().err


def test_an_unwritable_file_is_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "record.csv"
    assert (
        main(["--database-url", url, "export", "ropa", "--format", "csv", "-o", str(target)]) == 1
    )
    assert "No such file or directory" in capsys.readouterr().err
    assert not target.exists()


def test_the_fides_manifest_to_a_file(url: str, tmp_path: Path) -> None:
    """`export fides -o FILE`: the manifest PyYAML reads, with a system per recipient."""
    import yaml

    path = tmp_path / "fides.yaml"
    assert main(["--database-url", url, "export", "fides", "--as-of", PAST, "-o", str(path)]) == 0
    document = yaml.safe_load(path.read_text())
    assert {"system", "data_category", "data_use", "data_subject"} <= set(document)
    assert all(system["fides_key"] for system in document["system"])

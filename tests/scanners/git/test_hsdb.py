"""Compiled hyperscan databases are kept on disk, and only a file carrying this installation's HMAC
is ever handed to hyperscan's deserializer: a tampered, renamed or foreign file is compiled again."""

import hyperscan
import pytest

from scanners.git import hsdb

EXPRESSIONS, FLAGS = [rb"pass(word)?\s*=", rb"tok[e3]n"], [hyperscan.HS_FLAG_CASELESS] * 2


@pytest.fixture
def compiles(monkeypatch):
    """The number of databases compiled (not loaded) so far."""
    real, made = hyperscan.Database, []

    def counted():
        made.append(1)
        return real()

    monkeypatch.setattr(hsdb.hyperscan, "Database", counted)
    return made


@pytest.fixture
def cache(settings, tmp_path):
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "cache")
    settings.BOTAUDIT_FINGERPRINT_KEY = "key-one"
    return tmp_path / "cache" / "hyperscan"


def hits(db, data: bytes) -> list[int]:
    found = []
    db.scan(data, match_event_handler=lambda i, *_a: found.append(i))
    return found


def test_a_database_is_compiled_once_then_loaded_and_matches_the_same(cache, compiles):
    first = hsdb.compiled(EXPRESSIONS, FLAGS)
    second = hsdb.compiled(EXPRESSIONS, FLAGS)
    assert len(compiles) == 1 and [p.stat().st_mode & 0o777 for p in cache.iterdir()] == [0o600]
    assert cache.stat().st_mode & 0o777 == 0o700
    for data in (b"PASSWORD = x", b"a t0ken", b"nothing", b"Tok3n pass="):
        assert hits(second, data) == hits(first, data)
    assert hits(second, b"PASSWORD = x") == [0]
    hsdb.compiled([rb"other"], [0])  # another expression set: another file
    assert len(compiles) == 2 and len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("damage", ["flip a database byte", "flip an hmac byte", "truncate", "empty"])
def test_a_tampered_file_is_never_loaded_and_is_compiled_again(cache, compiles, damage):
    hsdb.compiled(EXPRESSIONS, FLAGS)
    (path,) = cache.iterdir()
    data = bytearray(path.read_bytes())
    if damage == "flip a database byte":
        data[len(data) // 2] ^= 0x40
    elif damage == "flip an hmac byte":
        data[3] ^= 1
    elif damage == "truncate":
        data = data[:40]
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    db = hsdb.compiled(EXPRESSIONS, FLAGS)
    assert len(compiles) == 2 and hits(db, b"token") == [1]
    assert hsdb._load(path, hsdb._place()[1]) is not None  # and the good database was written back


def test_a_file_made_with_another_key_or_for_other_expressions_is_not_loaded(cache, compiles, settings):
    hsdb.compiled(EXPRESSIONS, FLAGS)
    settings.BOTAUDIT_FINGERPRINT_KEY = "key-two"  # someone else's installation wrote this file
    hsdb.compiled(EXPRESSIONS, FLAGS)
    assert len(compiles) == 2
    (path,) = cache.iterdir()
    other = hsdb._name([rb"other"], [0])
    (cache / other).write_bytes(path.read_bytes())  # a valid file under another database's name
    db = hsdb.compiled([rb"other"], [0])
    assert len(compiles) == 3 and hits(db, b"an other") == [0]


def test_no_cache_without_a_directory_or_key_and_an_unwritable_one_only_costs_the_compile(settings, tmp_path,
                                                                                          compiles):
    settings.BOTAUDIT_FINGERPRINT_KEY = ""
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "c")
    hsdb.compiled(EXPRESSIONS, FLAGS)
    assert not (tmp_path / "c").exists()
    settings.BOTAUDIT_FINGERPRINT_KEY = "k"
    (tmp_path / "file").write_text("not a directory")
    settings.BOTAUDIT_GIT_CACHE_DIR = str(tmp_path / "file")
    for _ in range(2):
        assert hits(hsdb.compiled(EXPRESSIONS, FLAGS), b"token") == [1]
    assert len(compiles) == 3


def test_the_fingerprint_key_is_never_written_to_the_cache(cache):
    hsdb.compiled(EXPRESSIONS, FLAGS)
    for path in cache.iterdir():
        assert b"key-one" not in path.read_bytes() and b"key-one" not in path.name.encode()

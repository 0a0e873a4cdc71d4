"""Where a written file goes: a regular file is replaced whole, a symbolic link is
written through (the link stays), and a FIFO, a device or an open file behind
``/dev/stdout`` is written into, never replaced by a regular file.

No test here writes to a device: the device case is checked by ``output_target``,
which only looks. The open files written through ``/proc/self/fd`` are pipes and files
the test itself opened."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nerkit.errors import NerkitError
from nerkit.io import read, write, write_arrow, write_parquet
from nerkit.io.common import replaced_atomically, write_text
from nerkit.types import Sentence

SENTENCES = (
    Sentence(("John", "lives", "in", "Paris"), ("B-PER", "O", "O", "B-LOC"), "s-1"),
    Sentence(("Hi",), ("O",), "s-2"),
)
on_linux_proc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/fd").is_dir(),
    reason="needs Linux's /proc/self/fd",
)


def folder(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


class FifoReader:
    """Reads a FIFO to its end in a thread, as a process at the other end would."""

    def __init__(self, path: Path) -> None:
        self.data = b""
        self.thread = threading.Thread(target=self._read, args=(path,), daemon=True)
        self.thread.start()

    def _read(self, path: Path) -> None:
        with path.open("rb") as fh:
            self.data = fh.read()

    def result(self) -> bytes:
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the FIFO's reader got no data and no end"
        return self.data


def make_fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(path)
    return path


def is_fifo(path: Path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode)


def nerkit_temp_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("nerkit-output-*")}


# ------------------------------------------------------------- regular files


def test_a_regular_file_is_replaced_by_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "out.conll"
    path.write_text("old\n")
    with path.open() as old:
        write_text(path, "new\n")
        assert old.read() == "old\n"  # a reader of the old file reads it whole
    assert path.read_text() == "new\n" and names(tmp_path) == ["out.conll"]


def test_a_folder_is_no_output_file(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match=f"cannot write {tmp_path}: it is a folder"):
        write_text(tmp_path, "x")


# ------------------------------------------------------------- symbolic links


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    """The file the link leads to is replaced, in its own folder; the link, and the
    folder it lies in, are left as they were."""
    links, files = folder(tmp_path, "links"), folder(tmp_path, "files")
    target = files / "out.conll"
    target.write_text("old\n")
    link = links / "out.conll"
    link.symlink_to(target)
    write(SENTENCES, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert read(target).sentences == SENTENCES
    assert names(links) == ["out.conll"] and names(files) == ["out.conll"]


def test_a_chain_of_relative_links_is_followed_to_its_end(tmp_path: Path) -> None:
    links, files = folder(tmp_path, "links"), folder(tmp_path, "files")
    (files / "out.txt").write_text("old\n")
    (links / "second").symlink_to("../files/out.txt")
    (links / "first").symlink_to("second")
    write_text(links / "first", "new\n")
    assert os.readlink(links / "first") == "second"
    assert os.readlink(links / "second") == "../files/out.txt"
    assert (files / "out.txt").read_text() == "new\n" and names(files) == ["out.txt"]


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_tables_are_written_through_links(tmp_path: Path, kind: str) -> None:
    links, files = folder(tmp_path, "links"), folder(tmp_path, "files")
    target = files / f"out.{kind}"
    target.write_bytes(b"old")
    link = links / f"out.{kind}"
    link.symlink_to(target)
    (write_parquet if kind == "parquet" else write_arrow)(SENTENCES, link)
    assert link.is_symlink() and read(target).sentences == SENTENCES
    assert names(links) == [link.name] and names(files) == [target.name]


def test_a_dangling_link_gets_the_file_it_names(tmp_path: Path) -> None:
    """As a shell's ``>`` does: the link is kept, the file it names made."""
    links, files = folder(tmp_path, "links"), folder(tmp_path, "files")
    link = links / "out.txt"
    link.symlink_to(files / "new.txt")
    write_text(link, "text\n")
    assert link.is_symlink() and (files / "new.txt").read_text() == "text\n"


def test_a_link_into_a_missing_folder_is_an_error_naming_both(tmp_path: Path) -> None:
    link = tmp_path / "out.txt"
    link.symlink_to(tmp_path / "missing" / "out.txt")
    with pytest.raises(NerkitError, match="out.txt \\(a link to .*missing/out.txt\\): No such"):
        write_text(link, "text\n")
    assert names(tmp_path) == ["out.txt"] and link.is_symlink()


def test_a_loop_of_links_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(NerkitError, match="cannot write .*a: Too many levels of symbolic"):
        write_text(tmp_path / "a", "x")
    assert names(tmp_path) == ["a", "b"]


def test_a_failed_write_through_a_link_changes_nothing(tmp_path: Path) -> None:
    links, files = folder(tmp_path, "links"), folder(tmp_path, "files")
    (files / "out.txt").write_text("old\n")
    (links / "out.txt").symlink_to(files / "out.txt")
    with pytest.raises(RuntimeError), replaced_atomically(links / "out.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert (files / "out.txt").read_text() == "old\n"
    assert names(links) == ["out.txt"] and names(files) == ["out.txt"]


# ---------------------------------------------------------------------- FIFOs


def test_a_fifo_is_written_into_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = make_fifo(tmp_path / "out.conll")
    reader = FifoReader(fifo)
    write(SENTENCES, fifo)
    data = reader.result()
    assert is_fifo(fifo) and names(tmp_path) == ["out.conll"]
    copy = tmp_path / "copy.conll"
    copy.write_bytes(data)
    assert read(copy).sentences == SENTENCES


def test_a_table_is_written_whole_into_a_fifo(tmp_path: Path) -> None:
    before = nerkit_temp_folders()
    fifo = make_fifo(tmp_path / "out.parquet")
    reader = FifoReader(fifo)
    write_parquet(SENTENCES, fifo)
    table = pq.read_table(pa.BufferReader(reader.result()))
    assert table.column("tokens").to_pylist() == [list(s.tokens) for s in SENTENCES]
    assert is_fifo(fifo) and nerkit_temp_folders() == before


def test_a_link_to_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = make_fifo(tmp_path / "fifo")
    link = tmp_path / "out.txt"
    link.symlink_to(fifo)
    reader = FifoReader(fifo)
    write_text(link, "through the link\n")
    assert reader.result() == b"through the link\n"
    assert link.is_symlink() and is_fifo(fifo)


def test_a_failed_write_sends_nothing_into_a_fifo(tmp_path: Path) -> None:
    """Nothing half written reaches the reader: the FIFO is not even opened."""
    before = nerkit_temp_folders()
    fifo = make_fifo(tmp_path / "out.txt")
    # non-blocking, so that a writer opening the FIFO would not wait for this reader
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(RuntimeError), replaced_atomically(fifo) as tmp:
            tmp.write_text("half")
            raise RuntimeError
        assert os.read(reader, 100) == b""
    finally:
        os.close(reader)
    assert is_fifo(fifo) and nerkit_temp_folders() == before


# ------------------------------------------------ devices and open files


def test_a_device_is_written_into_never_replaced() -> None:
    """Only looks: ``output_target`` stats the path and writes nothing."""
    from nerkit.io.common import output_target

    device = Path(os.path.realpath("/dev/null"))
    if not device.exists() or not stat.S_ISCHR(os.stat(device).st_mode):
        pytest.skip("no character device /dev/null")
    where = output_target(device)
    assert where.path == device and not where.replace


@on_linux_proc
def test_dev_stdout_is_written_into_whatever_it_leads_to() -> None:
    """/dev/stdout leads, through /proc/self/fd/1, to a terminal, a pipe or a file the
    shell opened (under pytest: a deleted temporary file). None of them is replaced."""
    from nerkit.io.common import output_target

    where = output_target(Path("/dev/stdout"))
    assert where.path == Path("/dev/stdout") and not where.replace


@on_linux_proc
def test_an_open_pipe_is_written_into_through_proc(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        write_text(f"/proc/self/fd/{write_end}", "into the pipe\n")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"into the pipe\n"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


@on_linux_proc
@pytest.mark.skipif(not Path("/dev/fd").is_symlink(), reason="/dev/fd is no link to /proc")
def test_a_file_open_for_appending_keeps_what_it_held(tmp_path: Path) -> None:
    """As ``nerkit predict -o /dev/stdout >> log`` opens it: the log is written into
    (appended to), not replaced by a file holding only the output."""
    log = tmp_path / "log"
    log.write_text("before\n")
    inode = log.stat().st_ino
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        write_text(f"/dev/fd/{fd}", "after\n")
    finally:
        os.close(fd)
    assert log.read_text() == "before\nafter\n" and log.stat().st_ino == inode
    assert names(tmp_path) == ["log"]

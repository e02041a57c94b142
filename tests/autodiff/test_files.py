"""autodiff.files: atomic writes that keep links, close every descriptor and name the
folder; bounded reads of regular files only."""

import errno
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading

import pytest

from autodiff.files import read_regular_file, write_atomically


def open_descriptors():
    return len(os.listdir("/proc/self/fd"))


def test_a_failing_chmod_closes_the_descriptor_and_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    path.write_text("old")

    def refused(*args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chmod", refused)
    monkeypatch.setattr(os, "fchmod", refused)
    before = open_descriptors()
    for _ in range(5):
        with pytest.raises(PermissionError):
            write_atomically(path, "new")
    assert open_descriptors() == before
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["note.txt"]


def test_a_failed_replace_closes_the_descriptor_and_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    path.write_text("old")

    def refused(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", refused)
    before = open_descriptors()
    with pytest.raises(OSError, match="cross-device"):
        write_atomically(path, "new")
    assert open_descriptors() == before
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["note.txt"]


def test_writing_through_a_link_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "note.txt"
    target.write_text("old")
    target.chmod(0o600)
    link = tmp_path / "link.txt"
    link.symlink_to(os.path.join("real", "note.txt"))  # relative, as links often are
    write_atomically(link, "new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "note.txt")
    assert target.read_text() == "new" and link.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["link.txt", "real"] and os.listdir(tmp_path / "real") == ["note.txt"]


def test_writing_through_a_chain_of_links_and_a_linked_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "folder").symlink_to("real")
    (tmp_path / "real" / "note.txt").write_text("old")
    (tmp_path / "first").symlink_to("second")
    (tmp_path / "second").symlink_to(os.path.join("folder", "note.txt"))
    write_atomically(tmp_path / "first", "new")
    assert (tmp_path / "first").is_symlink() and (tmp_path / "second").is_symlink() and (tmp_path / "folder").is_symlink()
    assert (tmp_path / "real" / "note.txt").read_text() == "new"


def test_writing_through_a_dangling_link_creates_its_target_as_open_does(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to("note.txt")
    write_atomically(link, "new")
    assert link.is_symlink() and (tmp_path / "note.txt").read_text() == "new"


def test_a_loop_of_links_is_refused_and_left_alone(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError) as raised:
        write_atomically(tmp_path / "a", "new")
    assert raised.value.errno == errno.ELOOP
    assert os.readlink(tmp_path / "a") == "b" and os.readlink(tmp_path / "b") == "a"
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


def test_a_missing_folder_is_named_not_a_hidden_temporary_file(tmp_path):
    folder = tmp_path / "missing"
    with pytest.raises(FileNotFoundError) as raised:
        write_atomically(folder / "note.txt", "new")
    assert raised.value.filename == str(folder) and ".tmp" not in str(raised.value)
    assert "note.txt" in str(raised.value)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError) as raised:
        write_atomically(tmp_path / "file" / "note.txt", "new")
    assert raised.value.filename == str(tmp_path / "file")


def make_fifo(path):
    os.mkfifo(path)


def make_socket(path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays


def make_folder(path):
    path.mkdir()


@pytest.mark.parametrize("make, kind", [(make_fifo, r"a FIFO \(named pipe\)"), (make_socket, "a socket"), (make_folder, "a folder")])
def test_only_a_regular_file_is_replaced(tmp_path, make, kind):
    path = tmp_path / "x"
    make(path)
    mode = os.lstat(path).st_mode
    with pytest.raises(ValueError, match=f"is {kind}, not a regular file; only regular files are replaced"):
        write_atomically(path, "new")
    assert os.lstat(path).st_mode == mode and os.listdir(tmp_path) == ["x"]


def test_a_new_file_is_0644_and_an_old_file_keeps_its_mode(tmp_path):
    write_atomically(tmp_path / "new.txt", "x")
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
    (tmp_path / "old.txt").write_text("")
    (tmp_path / "old.txt").chmod(0o640)
    write_atomically(tmp_path / "old.txt", "x")
    assert stat.S_IMODE((tmp_path / "old.txt").stat().st_mode) == 0o640


def test_the_whole_file_then_its_folder_are_flushed_to_disk(tmp_path, monkeypatch):
    synced, real_fsync = [], os.fsync

    def recording_fsync(handle):
        status = os.fstat(handle)
        synced.append(("folder" if stat.S_ISDIR(status.st_mode) else "file", status.st_size))
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    write_atomically(tmp_path / "note.txt", "x" * 5000)
    assert synced[0] == ("file", 5000) and synced[1][0] == "folder" and len(synced) == 2


def test_a_write_that_fails_half_way_leaves_the_old_file_whole_and_no_temporary_file(tmp_path):
    # A real failure in the middle of the write: the file size limit (RLIMIT_FSIZE) stops
    # it after 4096 bytes of the new content with EFBIG.
    path = tmp_path / "note.txt"
    path.write_bytes(b"old" * 100)
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from autodiff.files import write_atomically
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            write_atomically({str(path)!r}, b"new" * 100_000)
        except OSError as error:
            sys.exit(error.errno)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd(), timeout=120)
    assert done.returncode == errno.EFBIG
    assert path.read_bytes() == b"old" * 100 and os.listdir(tmp_path) == ["note.txt"]


def test_an_interrupt_during_the_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    path.write_text("old")

    def interrupted(handle):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    before = open_descriptors()
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, "new")
    assert open_descriptors() == before
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["note.txt"]


# Reading


def test_reading_a_regular_file_and_a_link_to_one(tmp_path):
    (tmp_path / "note.txt").write_bytes(b"hello")
    (tmp_path / "link").symlink_to("note.txt")
    assert read_regular_file(tmp_path / "note.txt", 5) == b"hello"
    assert read_regular_file(tmp_path / "link", 5) == b"hello"
    with pytest.raises(ValueError, match="is 5 bytes, more than the 4 bytes it may hold"):
        read_regular_file(tmp_path / "note.txt", 4)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused_without_reading(device, tmp_path, monkeypatch):
    read = counting_reads(monkeypatch)
    with pytest.raises(ValueError, match=f"^{device} is a character device, not a regular file"):
        read_regular_file(device, 1 << 20)
    (tmp_path / "link").symlink_to(device)
    with pytest.raises(ValueError, match=f"link \\(a link to {device}\\) is a character device"):
        read_regular_file(tmp_path / "link", 1 << 20)
    assert read == []


def sizes_said_empty(monkeypatch):
    """os.fstat says every file is 0 bytes long, as files in /proc do."""
    real_fstat = os.fstat

    def fstat_saying_empty(handle):
        status = list(real_fstat(handle))
        status[stat.ST_SIZE] = 0
        return os.stat_result(status)

    monkeypatch.setattr(os, "fstat", fstat_saying_empty)


def counting_reads(monkeypatch):
    """A list that receives the number of bytes of every os.read."""
    counts, real_read = [], os.read

    def counting_read(handle, size):
        data = real_read(handle, size)
        counts.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting_read)
    return counts


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    error = raised_without_blocking(fifo, read_regular_file, fifo, 100)
    assert isinstance(error, ValueError) and "is a FIFO (named pipe), not a regular file" in str(error)


def raised_without_blocking(fifo, function, *args):
    """What ``function(*args)`` raises, run in a thread with a 30 s guard: if it is still
    blocked on opening ``fifo`` then, the test fails instead of hanging."""
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(raised_by(function, *args)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    blocked = worker.is_alive()
    if blocked:  # let the stuck open return, so that the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
    assert not blocked, f"opening {fifo} blocked"
    return outcome[0]


def raised_by(function, *args):
    try:
        function(*args)
    except Exception as error:
        return error
    return None


def test_the_open_descriptor_is_checked_not_only_the_path(tmp_path, monkeypatch):
    # A FIFO swapped in for a regular file between the look at the path and the open.
    path = tmp_path / "note.txt"
    path.write_text("{}")
    real_stat = os.stat

    def stat_then_swap(name, *args, **kwargs):
        result = real_stat(name, *args, **kwargs)
        if os.fspath(name) == str(path):
            path.unlink()
            os.mkfifo(path)
        return result

    monkeypatch.setattr(os, "stat", stat_then_swap)
    with pytest.raises(ValueError, match="is a FIFO"):
        read_regular_file(path, 100)


def test_a_file_larger_than_it_says_is_read_no_further_than_the_bound(tmp_path, monkeypatch):
    # Files in /proc say they are 0 bytes long; a file may also grow after fstat. Either
    # way no more than the bound + 1 bytes are read.
    path = tmp_path / "big"
    with open(path, "wb") as file:
        file.truncate(100 << 20)  # sparse: no 100 MB is written
    sizes_said_empty(monkeypatch)
    read = counting_reads(monkeypatch)
    with pytest.raises(ValueError, match="longer than its size says, more than the"):
        read_regular_file(path, 3 << 20)
    assert sum(read) == (3 << 20) + 1


def test_a_file_over_the_bound_is_refused_before_any_byte_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 1001)
    read = counting_reads(monkeypatch)
    with pytest.raises(ValueError, match="is 1,001 bytes, more than the 1,000 bytes"):
        read_regular_file(path, 1000)
    assert read == []


def test_missing_files_and_loops_of_links_raise_oserror_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        read_regular_file(tmp_path / "missing", 10)
    assert raised.value.filename == str(tmp_path / "missing")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError) as raised:
        read_regular_file(tmp_path / "a", 10)
    assert raised.value.errno == errno.ELOOP

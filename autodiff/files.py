"""Reading and writing files without surprises: ``read_regular_file``, ``write_atomically``.

Both deal with regular files only. Reading never blocks on a FIFO, never reads a device
such as ``/dev/zero`` and never reads more than a bound; writing replaces a file whole,
so that a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

# O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: opening a terminal must
# not make it ours. Both are 0 where the system lacks them.
_OPEN_FOR_READING = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 20


def read_regular_file(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of the regular file at ``path``; ``ValueError`` if it holds more than ``max_bytes``.

    Symbolic links are followed, but what they lead to must be a regular file: a
    device, FIFO, socket or folder raises ``ValueError`` and is not read (a FIFO does
    not block). The file actually opened is checked, not only the path, so a file
    swapped in between is caught too. At most ``max_bytes + 1`` bytes are ever read,
    even from a file that grows while it is read. A missing file, a permission denied
    or a loop of links raise ``OSError`` as ``open`` does.

    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> write_atomically(target, "hello")
    >>> read_regular_file(target, max_bytes=5)
    b'hello'
    >>> read_regular_file("/dev/zero", max_bytes=5)
    Traceback (most recent call last):
    ValueError: /dev/zero is a character device, not a regular file; only regular files are read
    """
    # Looking before opening keeps devices closed (opening some has effects of its own);
    # the check of the open descriptor below is the one that counts.
    _require_regular(os.stat(path).st_mode, path, "read")
    handle = os.open(path, _OPEN_FOR_READING)
    try:
        status = os.fstat(handle)
        _require_regular(status.st_mode, path, "read")
        if status.st_size > max_bytes:
            raise _too_large(path, f"{status.st_size:,} bytes", max_bytes)
        data = _read_at_most(handle, max_bytes + 1)
    finally:
        os.close(handle)
    if len(data) > max_bytes:  # it grew after fstat, or its size was not known (/proc)
        raise _too_large(path, "longer than its size says", max_bytes)
    return data


def write_atomically(path: str | os.PathLike, content: str | bytes) -> None:
    """Write ``content`` to ``path`` so that the file is either the old one or the new one.

    The bytes go to a temporary file in the same folder, are flushed to disk, and then
    replace the file in one step, and the folder is flushed too; if anything fails, the
    old file is left whole and the temporary file is removed. Through a symbolic link
    the file it leads to is written and the link kept. Only a regular file is replaced:
    a device, FIFO, socket or folder at ``path`` raises ``ValueError``. A missing
    folder raises ``FileNotFoundError`` naming the folder.

    >>> import tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> write_atomically(target, "hello")
    >>> open(target).read()
    'hello'
    """
    target = _following_links(Path(path))
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    mode = _mode_to_keep(target, path)
    handle, temporary = _create_temporary_beside(target)
    try:
        _write_and_sync(handle, temporary, data, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(target.parent)


def _require_regular(mode: int, path: str | os.PathLike, doing: str) -> None:
    if stat.S_ISREG(mode):
        return
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ]
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    where = os.fspath(path)
    if os.path.islink(path):
        where += f" (a link to {os.path.realpath(path)})"
    raise ValueError(f"{where} is {kind}, not a regular file; only regular files are {doing}")


def _too_large(path: str | os.PathLike, size: str, max_bytes: int) -> ValueError:
    return ValueError(f"{os.fspath(path)} is {size}, more than the {max_bytes:,} bytes it may hold")


def _read_at_most(handle: int, count: int) -> bytes:
    chunks, total = [], 0
    while total < count:
        chunk = os.read(handle, min(_CHUNK, count - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _following_links(path: Path) -> Path:
    """Where ``path`` leads, so that writing keeps a link and replaces what it points to."""
    resolved = Path(os.path.realpath(path))
    if resolved.is_symlink():  # realpath stops at a loop of links and returns a link
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), os.fspath(path))
    return resolved


def _mode_to_keep(target: Path, path: str | os.PathLike) -> int:
    """The old file's permissions, or the usual 0644 for a new file (mkstemp makes 0600)."""
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a missing folder is named below
        return 0o644
    _require_regular(mode, path, "replaced")
    return stat.S_IMODE(mode)


def _create_temporary_beside(target: Path) -> tuple[int, str]:
    folder = target.parent
    try:
        return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:  # name the folder, not the temporary file nobody asked for
        if error.errno == errno.ENOENT:
            message = (
                f"cannot write {target.name}: its folder does not exist; create it first "
                "(os.makedirs(folder, exist_ok=True))"
            )
        else:
            message = f"cannot create {target.name} in this folder ({error.strerror})"
        raise type(error)(error.errno, message, os.fspath(folder)) from None


def _write_and_sync(handle: int, temporary: str, data: bytes, mode: int) -> None:
    """Fill the temporary file; ``handle`` is closed on every path."""
    try:
        file = os.fdopen(handle, "wb")
    except BaseException:
        os.close(handle)
        raise
    with file:
        if hasattr(os, "fchmod"):  # the descriptor, not a name someone could swap
            os.fchmod(file.fileno(), mode)
        else:
            os.chmod(temporary, mode)
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    """Flush the folder, so that the rename itself survives a crash (POSIX)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on Windows, where the rename is durable as is
        return
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # file systems that cannot
            raise
    finally:
        os.close(handle)

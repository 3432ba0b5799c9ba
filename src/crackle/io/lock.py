"""One writer per run or sweep directory: an advisory lock naming its holder.

``DIR/.crackle.lock`` holds the process id, host, start time and command of the
process writing ``DIR``. The lock itself is the kernel's ``flock`` on that file, so it
is released the moment its holder exits, however it exits: a lock file left by a
killed process is taken over by the next writer (its stale contents are replaced),
while a live holder is named in the error a second writer gets. The lock is
re-entrant within one process (a command that holds it may call library functions
that take it again). Where the file system has no ``flock`` (some network and FUSE
mounts), the recorded process id decides: a holder on this host that is still alive
keeps the directory.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:  # POSIX; elsewhere the process-id fallback is used
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunDirLockedError", "check_unlocked", "lock_holder", "run_lock"]

#: Name of the lock file inside a locked directory.
LOCK_NAME = ".crackle.lock"

_held: dict[str, list[Any]] = {}  # real path -> [fd or None, depth]
_mutex = threading.RLock()


class RunDirLockedError(RuntimeError):
    """Another process is writing this run or sweep directory."""


def _describe_holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    parts = [f"pid {info.get('pid')}", f"on {info.get('host')}"]
    if info.get("since"):
        parts.append(f"since {info['since']}")
    text = "another crackle process (" + ", ".join(parts) + ")"
    if info.get("command"):
        text += f": {info['command']}"
    return text


def _read_info(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def lock_holder(directory: str | Path) -> dict[str, Any] | None:
    """Who holds the lock of ``directory`` (pid, host, since, command), or None."""
    d = Path(directory)
    lock = d / LOCK_NAME
    if not lock.exists():
        return None
    key = os.path.realpath(d)
    with _mutex:
        if key in _held:
            return _my_info()
    if fcntl is None:
        info = _read_info(lock)
        return info if info and _alive(info) else None
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(lock) or {}
        except OSError:
            info = _read_info(lock)
            return info if info and _alive(info) else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _my_info() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[
            :300
        ],
    }


def _alive(info: dict[str, Any]) -> bool:
    """Whether the recorded holder may still run (always True for another host)."""
    if info.get("host") != socket.gethostname():
        return True
    try:
        pid = int(info.get("pid", 0))
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    if pid == os.getpid():
        return False  # our own stale record (the lock is not in our table)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _locked_message(directory: Path, info: dict[str, Any] | None, what: str) -> str:
    return (
        f"{directory} is being written by {_describe_holder(info)}; one writer per {what}. "
        "Wait for it to finish, rerun with --wait, or choose another --out"
    )


def _try_flock(directory: Path) -> tuple[int | None, dict[str, Any] | None]:
    """Take the lock without waiting: (fd, None), or (None, holder) when held."""
    lock = directory / LOCK_NAME
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # a holder that had created it removed the directory
            directory.mkdir(parents=True, exist_ok=True)
            continue
        try:
            assert fcntl is not None
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None, _read_info(lock)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                return _try_pidfile(directory)
            raise
        # The file we locked must still be the one at LOCK_NAME: a releasing holder
        # removes it, and a lock on a removed file guards nothing.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            _write_info(fd)
            return fd, None
        os.close(fd)


def _try_pidfile(directory: Path) -> tuple[int | None, dict[str, Any] | None]:
    """Fallback without flock: the recorded holder keeps the lock while it lives."""
    lock = directory / LOCK_NAME
    info = _read_info(lock)
    if info and _alive(info):
        return None, info
    tmp = lock.with_name(f"{LOCK_NAME}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_my_info()))
    os.replace(tmp, lock)
    return -1, None


def _write_info(fd: int) -> None:
    data = (json.dumps(_my_info()) + "\n").encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


@contextmanager
def run_lock(
    directory: str | Path,
    *,
    wait: bool = False,
    timeout: float | None = None,
    what: str = "run directory",
) -> Iterator[Path]:
    """Hold the writer's lock of ``directory`` (created when missing) for a block.

    Parameters
    ----------
    directory : str or Path
        The run or sweep directory; created when missing (and removed again when the
        block leaves it empty).
    wait : bool
        Wait for the holder to finish instead of failing at once.
    timeout : float, optional
        With ``wait``: seconds to wait at most (default: no limit).
    what : str
        How the error names the directory ("run directory", "sweep directory").

    Raises
    ------
    RunDirLockedError
        Another live process holds the lock (the message names its pid and host).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with run_lock(d):
    ...     with run_lock(d):  # re-entrant in one process
    ...         lock_holder(d)["pid"] == os.getpid()
    True
    >>> lock_holder(d) is None
    True
    """
    d = Path(directory)
    if d.exists() and not d.is_dir():
        raise FileExistsError(f"{d} exists and is not a directory; choose another --out")
    created = not d.exists()
    d.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(d)
    with _mutex:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
    if entry is not None:
        try:
            yield d
        finally:
            with _mutex:
                entry[1] -= 1
        return
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if fcntl is None:
            fd, holder = _try_pidfile(d)
        else:
            fd, holder = _try_flock(d)
        if fd is not None:
            break
        if not wait or (deadline is not None and time.monotonic() >= deadline):
            raise RunDirLockedError(_locked_message(d, holder, what))
        time.sleep(0.2)
    with _mutex:
        _held[key] = [fd, 1]
    try:
        yield d
    finally:
        with _mutex:
            entry = _held[key]
            entry[1] -= 1
            done = entry[1] == 0
            if done:
                del _held[key]
        if done:
            # Remove the file while still holding it (a waiter that opened it sees the
            # inode change and retries), then release.
            with suppress(OSError):
                (d / LOCK_NAME).unlink()
            if fd is not None and fd >= 0:
                os.close(fd)
            if created:  # made only to hold the lock, nothing written: leave no trace
                with suppress(OSError):
                    d.rmdir()


def check_unlocked(directory: str | Path, what: str = "run directory") -> None:
    """Raise :class:`RunDirLockedError` when another process writes ``directory``
    (holding the lock in this process, or no lock at all, passes)."""
    d = Path(directory)
    with _mutex:
        if os.path.realpath(d) in _held:
            return
    holder = lock_holder(d)
    if holder is not None:
        raise RunDirLockedError(_locked_message(d, holder, what))

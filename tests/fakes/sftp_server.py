"""An SSH server with SFTP on 127.0.0.1 (asyncssh), for a real `ssh://` DVC remote in tests.

    with SFTPServer(tmp_path / "ssh") as server:
        url = f"ssh://127.0.0.1:{server.port}/store"      # /store is <tmp>/ssh/root/store

It generates an ed25519 host key and a client key (files under the given folder, the private one
readable by the owner only), accepts only that client key for the user running the test (no
passwords), writes a known_hosts line for the host key, and serves SFTP chrooted to `root/`. It runs
on an ephemeral port in its own thread and event loop and needs no root and no OpenSSH.
"""

from __future__ import annotations

import asyncio
import getpass
import threading
from pathlib import Path
from typing import Any

import asyncssh


class SFTPServer:
    def __init__(self, folder: Path, lifetime_s: float = 900.0) -> None:
        self.folder = Path(folder)
        self.root = self.folder / "root"
        self.user = getpass.getuser()
        self.host_key_file = self.folder / "host_ed25519"
        self.client_key_file = self.folder / "client_ed25519"
        self.known_hosts_file = self.folder / "known_hosts"
        self.lifetime_s = lifetime_s
        self.port = 0
        self.logins: list[str] = []  # user of every accepted login
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None

    def __enter__(self) -> "SFTPServer":
        self.root.mkdir(parents=True, exist_ok=True)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        client_key = asyncssh.generate_private_key("ssh-ed25519")
        host_key.write_private_key(str(self.host_key_file))
        client_key.write_private_key(str(self.client_key_file))
        self.client_key_file.chmod(0o600)
        authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
        self.known_hosts_file.write_text(f"[127.0.0.1]:{{port}} {host_key.export_public_key().decode()}")

        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._server = self._loop.run_until_complete(
                    asyncssh.listen(
                        "127.0.0.1",
                        0,
                        server_host_keys=[host_key],
                        server_factory=lambda: _KeyOnly(self, authorized),
                        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root)),
                        allow_scp=False,
                    )
                )
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                started.set()
                return
            self.port = self._server.sockets[0].getsockname()[1]
            self._loop.call_later(self.lifetime_s, self._loop.stop)
            started.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="sftp-server", daemon=True)
        self._thread.start()
        started.wait(30)
        if failure:
            raise failure[0]
        text = self.known_hosts_file.read_text().replace("{port}", str(self.port))
        self.known_hosts_file.write_text(text)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)


class _KeyOnly(asyncssh.SSHServer):
    """Logins with the generated client key as the test's user; nothing else."""

    def __init__(self, server: SFTPServer, authorized: Any) -> None:
        self.server = server
        self.authorized = authorized
        self.user = ""
        self._conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        self.user = username
        if username == self.server.user:
            self._conn.set_authorized_keys(self.authorized)
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def auth_completed(self) -> None:
        self.server.logins.append(self.user)

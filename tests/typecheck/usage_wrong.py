"""Wrong uses of the public API: tests/test_typing.py checks that
``mypy --strict`` reports an error on exactly the lines marked ``# E:``
with that error code, so the type check can fail."""
from __future__ import annotations

import menios
import menios.socket as msocket
from menios.faults import Fault


def wrong(k: menios.Kernel) -> None:
    p = k.spawn(uid="root")  # E: arg-type
    a, b = p.socketpair()
    p.send(a, "text, not bytes")  # E: arg-type
    text: str = p.recv(b, 10)  # E: assignment
    p.poll([a, b])  # E: list-item
    pages = k.alloc_pages(1)
    pages.wait("soon")  # E: arg-type
    fault: Fault = k.faults.inject("send", errno="EAGAIN")  # E: arg-type
    s, _ = msocket.socketpair(process=k)  # E: arg-type
    fds: list[str] = msocket.recv_fds(s, 10, 1)[1]  # E: assignment
    s.settimeout("5s")  # E: arg-type
    s.connect(5)  # E: arg-type
    buf = p.recv_pages(b)
    buf.tobytes().encode()  # E: attr-defined
    p.splice_everything(a)  # E: attr-defined
    k.ss(["-x"]).decode()  # E: attr-defined
    del text, fault, fds

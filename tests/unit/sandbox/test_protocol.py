"""The one message protocol between a parent and its sandboxed child."""

from __future__ import annotations

import datetime
import multiprocessing
import os
import pickle

import numpy as np
import pytest

from softquery.sandbox import protocol
from softquery.sandbox.protocol import MessageReader, MessageTooLarge


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


def test_what_the_parent_sends_is_what_the_child_receives() -> None:
    parent, child = multiprocessing.Pipe(duplex=True)
    message = ("predict", 7, "key", np.arange(5.0), True)
    os.write(parent.fileno(), protocol.encode(message))
    got = protocol.receive(child)
    assert got[:3] == message[:3] and got[4] is True and got[3].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    parent.send_bytes(protocol.dumps(("done",)))  # the same frame through Connection
    assert protocol.receive(child) == ("done",)


def test_what_the_child_sends_is_decoded_with_the_allow_list() -> None:
    parent, child = multiprocessing.Pipe(duplex=True)
    sent = [("result", {"a": [1, 2.5, None], "when": datetime.date(2024, 1, 2)}),
            ("predictions", np.array([1.0, 2.0]), None), ("evil", _Evil())]
    for message in sent:
        protocol.send(child, message)
    data = os.read(parent.fileno(), 1 << 20)
    reader = MessageReader(1 << 20)
    got = [m for i in range(0, len(data), 3) for m in reader.feed(data[i:i + 3])]  # cut anywhere
    assert got[0] == sent[0]
    assert got[1][0] == "predictions" and got[1][1].tolist() == [1.0, 2.0]
    assert got[2][0] == "invalid_message" and "posix.system" in got[2][1]


def test_a_frame_over_the_limit_is_refused_before_it_is_buffered() -> None:
    reader = MessageReader(100)
    small = protocol.frame(pickle.dumps({"id": 1}))
    with pytest.raises(MessageTooLarge) as refused:
        reader.feed(small + protocol.frame(b"x" * 101)[:10])
    assert refused.value.size == 101 and refused.value.before == [{"id": 1}]


def test_long_frames_use_the_eight_byte_length() -> None:
    assert protocol.frame(b"ab") == b"\x00\x00\x00\x02ab"
    payload = pickle.dumps(1, protocol=4)
    long_form = b"\xff\xff\xff\xff" + len(payload).to_bytes(8, "big") + payload
    assert MessageReader(1 << 20).feed(long_form) == [1]

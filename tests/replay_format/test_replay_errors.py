"""Damaged, foreign and future files: each fails with the documented error, naming what broke."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zstandard
from vlar_handmade import rebuild, replace_payload, split, with_version

from replay_format import decode_replay, encode_replay, read_header
from schemas.errors import CorruptReplayError, ReplayFormatError, UnsupportedVersionError


@pytest.fixture
def encoded(episode) -> bytes:
    header, frames, steps = episode
    return encode_replay(header, frames, steps, chunk_frames=8)


def test_unknown_major_version_is_rejected(encoded) -> None:
    for read in (decode_replay, read_header):
        with pytest.raises(UnsupportedVersionError, match=r"version 2\.0 is not supported"):
            read(with_version(encoded, 2, 0))
    with pytest.raises(UnsupportedVersionError, match=r"version 0\.9"):
        decode_replay(with_version(encoded, 0, 9))


def test_higher_minor_version_with_additions_is_read(encoded, episode) -> None:
    def add_future_things(index: dict[str, Any]) -> None:
        index["header"]["future_field"] = {"x": 1}
        index["new_top_level"] = [1, 2]
        index["streams"].append({"name": "contacts", "group": "contacts", "dtype": "int32", "shape": [3]})
        index["chunks"].append({**index["chunks"][0], "stream": "contacts", "codec": "future-codec"})

    future = rebuild(with_version(encoded, 1, 7), add_future_things)
    replay = decode_replay(future)
    assert replay.version == (1, 7)
    assert read_header(future)[0] == (1, 7)
    np.testing.assert_array_equal(replay.frames["qpos"].view(np.uint64), episode[1]["qpos"].view(np.uint64))
    assert "contacts" not in replay.frames


def test_unknown_codec_is_unsupported_and_names_the_chunk(encoded) -> None:
    def use_future_codec(index: dict[str, Any]) -> None:
        index["chunks"][4]["codec"] = "zfp"

    with pytest.raises(
        UnsupportedVersionError, match=r"chunk 4 \(stream 'qpos', rows 8\.\.16\) uses codec 'zfp'"
    ):
        decode_replay(rebuild(encoded, use_future_codec))


def test_bad_magic(encoded) -> None:
    for data in (b"PK\x03\x04" + encoded[4:], b'{"frames": []}', b"\x89PNG\r\n\x1a\n" + bytes(40)):
        with pytest.raises(CorruptReplayError, match="bad magic"):
            decode_replay(data)


@pytest.mark.parametrize("keep", [0, 5, 8, 19, 20, 60])
def test_truncated_prelude_or_header(encoded, keep) -> None:
    with pytest.raises(CorruptReplayError, match="truncated"):
        read_header(encoded[:keep])


def test_truncated_data_names_the_first_missing_chunk(encoded) -> None:
    replay = decode_replay(encoded)
    last = len(replay.chunks) - 1
    stream = replay.chunks[-1].stream
    with pytest.raises(CorruptReplayError, match=rf"truncated file: chunk {last} \(stream '{stream}'"):
        decode_replay(encoded[:-3])
    index, section = split(encoded)
    with pytest.raises(CorruptReplayError, match=r"truncated file: chunk 0 \(stream 'time', rows 0\.\.8\)"):
        decode_replay(encoded[: len(encoded) - len(section)])


def test_every_flipped_chunk_byte_is_caught_and_named(encoded) -> None:
    replay = decode_replay(encoded)
    start = len(encoded) - sum(c.length for c in replay.chunks)
    for number, chunk in enumerate(replay.chunks):
        damaged = bytearray(encoded)
        damaged[start + chunk.offset + chunk.length // 2] ^= 0x10
        expected = rf"corrupt chunk {number} \(stream '{chunk.stream}', rows {chunk.row_start}\.\..*CRC-32"
        with pytest.raises(CorruptReplayError, match=expected):
            decode_replay(bytes(damaged))


def test_flipped_header_byte_is_caught(encoded) -> None:
    damaged = bytearray(encoded)
    damaged[30] ^= 0x01
    with pytest.raises(CorruptReplayError, match="corrupt header: CRC-32"):
        read_header(bytes(damaged))


def test_bad_zstd_with_matching_crc_names_the_chunk(encoded) -> None:
    with pytest.raises(CorruptReplayError, match=r"corrupt chunk 3 \(stream 'qpos'.*bad zstd"):
        decode_replay(replace_payload(encoded, 3, b"\x28\xb5\x2f\xfd not really zstd"))


def test_wrong_decompressed_length_names_the_chunk(encoded) -> None:
    short = zstandard.ZstdCompressor().compress(bytes(40))
    with pytest.raises(CorruptReplayError, match=r"corrupt chunk 6 \(stream 'qvel'.*declares 40 decompressed bytes"):
        decode_replay(replace_payload(encoded, 6, short))
    undeclared = zstandard.ZstdCompressor(write_content_size=False).compress(bytes(40))
    with pytest.raises(CorruptReplayError, match=r"corrupt chunk 6 .*does not declare its content size"):
        decode_replay(replace_payload(encoded, 6, undeclared))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda i: i["chunks"][1].update(raw_length=8), r"chunk 1 .*raw_length 8"),
        (
            lambda i: i["chunks"].pop(4),
            r"chunk 4 \(stream 'qpos', rows 16\.\.23\) does not continue the stream",
        ),
        (lambda i: i["chunks"].pop(), r"chunks of stream 'progress' cover 0 of 5 rows"),
        (lambda i: i["chunks"][0].update(stream="nope"), r"chunk 0 .*undeclared stream"),
        (lambda i: i["streams"].pop(1), r"required stream frames\['qpos'\] is missing"),
        (lambda i: i["streams"][2].update(shape=[23, 6]), r"frames\['qvel'\] has shape \(23, 6\)"),
        (lambda i: i.update(n_frames=22), r"frames\['time'\] has shape \(23,\), expected \(22,\)"),
        (lambda i: i["header"].update(step_frames=[0, 5, 4, 15, 20]), r"step_frames\[2\]: 4 < 5"),
        (
            lambda i: i["header"].update(nq="eight"),
            r"corrupt header: Expected `int`, got `str` - at `\$.header.nq`",
        ),
    ],
)
def test_inconsistent_tables_are_corrupt(encoded, edit, message) -> None:
    with pytest.raises(CorruptReplayError, match=message):
        decode_replay(rebuild(encoded, edit))


def test_errors_share_the_replay_format_root() -> None:
    assert issubclass(CorruptReplayError, ReplayFormatError)
    assert issubclass(UnsupportedVersionError, ReplayFormatError)

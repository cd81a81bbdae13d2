// @ts-check
/**
 * Damaged, truncated, newer and hand-edited `.vlar` files: every check of docs/replay-format.md
 * section 9 raises its named error with a message fit for the page. The base file is the committed
 * golden file Python wrote (tests/replay_format/golden/): 12 frames, 4-row chunks, so chunk 4 is
 * stream 'qpos', rows 4..8. Edited headers get a valid CRC, so the check under test is the one hit.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
  CorruptReplayError, decodeReplay, ReplayFormatError, readHeader, UnsupportedVersionError,
} from '../../src/lib/vlar.js';
import { repoRoot } from '../support/python.mjs';
import { assemble, concat, rewriteIndex, splitVlar, zstdStored } from '../support/vlar-builder.mjs';
import { crc32 } from '../../src/lib/crc32.js';

const GOLDEN = new Uint8Array(readFileSync(path.join(repoRoot, 'tests', 'replay_format', 'golden', 'episode_v1_0.vlar')));
const { index: INDEX, section: SECTION, dataStart: DATA_START } = splitVlar(GOLDEN);

/**
 * Assert that decoding `bytes` throws `Kind` (a ReplayFormatError, named after its class) with a
 * message matching `pattern`.
 * @param {Uint8Array} bytes @param {typeof ReplayFormatError} Kind @param {RegExp} pattern
 * @param {(b: Uint8Array) => unknown} [read]
 */
function rejects(bytes, Kind, pattern, read = decodeReplay) {
  assert.throws(() => read(bytes), (/** @type {any} */ error) => {
    assert.ok(error instanceof Kind, `expected ${Kind.name}, got ${error?.name}: ${error?.message}`);
    assert.ok(error instanceof ReplayFormatError);
    assert.equal(error.name, Kind.name);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A copy of the golden file with byte `at` XOR-ed. @param {number} at */
const flipped = (at) => {
  const copy = GOLDEN.slice();
  copy[at] ^= 0x40;
  return copy;
};

/** The golden file with its index edited (CRC recomputed). @param {(index: any) => any} edit */
const edited = (edit) => rewriteIndex(GOLDEN, (index) => { edit(index); return index; });

/**
 * The golden file with chunk `number`'s payload replaced by `payload` (appended; CRC updated).
 * @param {number} number @param {Uint8Array} payload
 */
function withPayload(number, payload) {
  const index = structuredClone(INDEX);
  Object.assign(index.chunks[number], { offset: SECTION.length, length: payload.length, crc32: crc32(payload) });
  return assemble(index, concat([SECTION, payload]));
}

describe('prelude and header', () => {
  test('bad magic', () => {
    rejects(flipped(1), CorruptReplayError, /^not a \.vlar replay file \(bad magic\)$/);
    rejects(new TextEncoder().encode('{"episode": 1, "frames": []}'), CorruptReplayError, /bad magic/);
    rejects(GOLDEN.subarray(3), CorruptReplayError, /bad magic/, readHeader);
  });

  test('truncated prelude: the bytes present agree with the magic but are too few', () => {
    rejects(GOLDEN.subarray(0, 5), CorruptReplayError, /^truncated replay: the file has 5 bytes, fewer than the 20-byte prelude$/);
    rejects(GOLDEN.subarray(0, 0), CorruptReplayError, /^truncated replay: the file has 0 bytes/);
    rejects(GOLDEN.subarray(0, 19), CorruptReplayError, /^truncated replay: the file has 19 bytes/, readHeader);
  });

  test('truncated header', () => {
    rejects(GOLDEN.subarray(0, DATA_START - 1), CorruptReplayError,
      new RegExp(`^truncated replay: the header needs bytes 20\\.\\.${DATA_START}, the file has ${DATA_START - 1}$`), readHeader);
  });

  test('unsupported major version, checked before the header', () => {
    for (const [major, minor] of [[2, 0], [0, 9], [65535, 1]]) {
      const bytes = flipped(30); // a damaged header too: the version error comes first
      new DataView(bytes.buffer).setUint16(8, major, true);
      new DataView(bytes.buffer).setUint16(10, minor, true);
      const message = new RegExp(`^unsupported replay version ${major}\\.${minor} \\(this viewer reads 1\\.x\\)$`);
      rejects(bytes, UnsupportedVersionError, message);
      rejects(bytes, UnsupportedVersionError, message, readHeader);
    }
  });

  test('a newer minor version reads, and reports the version the file declares', () => {
    const bytes = assemble(INDEX, SECTION, { minor: 7 }); // from 1.1 on the CRC covers the version too
    assert.deepEqual(decodeReplay(bytes).version, { major: 1, minor: 7 });
    assert.deepEqual(readHeader(bytes).version, { major: 1, minor: 7 });
  });

  test('from 1.1 on the CRC covers the version and header-length fields', () => {
    const v11 = assemble(INDEX, SECTION, { minor: 1 });
    assert.deepEqual(decodeReplay(v11).version, { major: 1, minor: 1 });
    for (const [at, bit] of [[10, 0x01], [11, 0x04], [9, 0x00], [12, 0x01], [14, 0x10]]) {
      if (!bit) continue;
      const damaged = v11.slice();
      damaged[at] ^= bit; // e.g. minor 1 -> 0, or 1.1 -> 1.1025; a longer H is also "truncated"
      assert.throws(() => readHeader(damaged), (/** @type {any} */ e) => e instanceof CorruptReplayError
        && /CRC-32 check|truncated replay/.test(e.message));
    }
    const v10 = GOLDEN.slice();
    v10[10] ^= 0x01; // a 1.0 file whose minor reads 1: the 1.1 rule applies and fails
    rejects(v10, CorruptReplayError, /^corrupt replay: the prelude and header fail their CRC-32 check/, readHeader);
  });

  test('a flipped header byte fails the header CRC-32', () => {
    rejects(flipped(DATA_START - 10), CorruptReplayError,
      /^corrupt replay: the header fails its CRC-32 check \(computed 0x[0-9a-f]{8}, stored 0x[0-9a-f]{8}\)$/);
    rejects(flipped(16), CorruptReplayError, /header fails its CRC-32 check/, readHeader);
  });

  test('a header that is not msgpack, or lacks or mistypes a field', () => {
    rejects(assemble(null, SECTION, { headerBytes: Uint8Array.of(0xc1) }), CorruptReplayError,
      /^corrupt replay header: file: byte 0xc1 is not a msgpack value$/);
    rejects(assemble(null, SECTION, { headerBytes: Uint8Array.of(0x81, 0xa1) }), CorruptReplayError,
      /^corrupt replay header: file \(a key\): truncated msgpack$/);
    rejects(assemble(null, SECTION, { headerBytes: Uint8Array.of(0x93, 1, 2, 3) }), CorruptReplayError,
      /^corrupt replay header: file should be a map, got an array$/);
    rejects(edited((i) => { i.header.nq = 'eight'; }), CorruptReplayError,
      /^corrupt replay header: header\.nq should be an integer >= 0, got string "eight"$/, readHeader);
    rejects(edited((i) => { delete i.chunks; }), CorruptReplayError, /^corrupt replay header: file\.chunks is missing$/);
    rejects(edited((i) => { delete i.header.joints[1].qpos_adr; }), CorruptReplayError,
      /header\.joints\[1\]\.qpos_adr is missing/);
    rejects(edited((i) => { i.header.actuators[0].joint = 3; }), CorruptReplayError,
      /header\.actuators\[0\]\.joint should be a string or nil, got number 3/);
    rejects(edited((i) => { i.header.step_frames[1] = 2.5; }), CorruptReplayError,
      /header\.step_frames\[1\] should be an integer, got number 2\.5/);
    rejects(edited((i) => { i.chunks[2].crc32 = -1; }), CorruptReplayError, /chunks\[2\]\.crc32 should be an integer >= 0/);
  });

  test('metadata is optional (it has a default) but must be a map', () => {
    assert.deepEqual(decodeReplay(edited((i) => { delete i.header.metadata; })).header.metadata, {});
    rejects(edited((i) => { i.header.metadata = [1]; }), CorruptReplayError, /header\.metadata should be a map/);
  });
});

describe('forward compatibility within major 1', () => {
  test('new keys, unknown streams and codecs on skipped streams, and stray data bytes are ignored', () => {
    const junk = Uint8Array.of(1, 2, 3, 4, 5);
    const bytes = rewriteIndex(GOLDEN, (i) => {
      i.future = { anything: [1, 2] };
      i.header.future_field = 'x';
      i.header.joints[0].limit = [0, 1];
      i.streams.forEach((/** @type {any} */ s) => { s.unit = 'si'; });
      i.chunks.forEach((/** @type {any} */ c) => { c.hint = 0; });
      i.streams.push({ name: 'depth', group: 'frames', dtype: 'float16', shape: [12, 4] },
        { name: 'notes', group: 'annotations', dtype: 'utf8', shape: [2] });
      i.chunks.splice(5, 0, { stream: 'depth', row_start: 0, row_count: 12, offset: SECTION.length, length: 5,
        raw_length: 96, codec: 'lz5', crc32: 1 });
    }, { section: concat([SECTION, junk, junk]) });
    const replay = decodeReplay(bytes);
    const golden = decodeReplay(GOLDEN);
    assert.deepEqual(Object.keys(replay.frames), ['time', 'qpos', 'qvel', 'ctrl']);
    assert.deepEqual(replay.header, golden.header);
    for (const name of Object.keys(golden.frames)) assert.deepEqual(replay.frames[name], golden.frames[name]);
  });

  test('a required stream with an unknown dtype, or an unknown codec on a decoded stream', () => {
    rejects(edited((i) => { i.streams[1].dtype = 'float32'; }), UnsupportedVersionError,
      /^unsupported replay: stream frames\['qpos'\] has dtype 'float32', unknown to this viewer$/);
    rejects(edited((i) => { i.chunks[4].codec = 'lz5'; }), UnsupportedVersionError,
      /^unsupported replay: chunk 4 \(stream 'qpos', rows 4\.\.8\) uses codec 'lz5', unknown to this viewer$/);
  });
});

describe('stream table', () => {
  test('missing, duplicate or misshapen streams', () => {
    rejects(edited((i) => { i.streams.splice(2, 1); i.chunks = i.chunks.filter((/** @type {any} */ c) => c.stream !== 'qvel'); }),
      CorruptReplayError, /^corrupt replay: stream table: required stream frames\['qvel'\] is missing$/);
    rejects(edited((i) => { i.streams[4].group = 'frames'; }), CorruptReplayError, /required stream steps\['action'\] is missing/);
    rejects(edited((i) => { i.streams.push({ ...i.streams[0] }); }), CorruptReplayError,
      /^corrupt replay: stream table: stream 'time' is declared twice$/);
    rejects(edited((i) => { i.streams[1].shape = [12, 7]; }), CorruptReplayError,
      /^corrupt replay: stream table: frames\['qpos'\] has shape \[12, 7\], expected \[12, 8\]$/);
    rejects(edited((i) => { i.streams.push({ name: 'extra', group: 'steps', dtype: 'float64', shape: [4, 1] }); }),
      CorruptReplayError, /steps\['extra'\] has shape \[4, 1\], expected \[3\] or \[3, columns\]/);
  });

  test('step_frames must be non-decreasing and inside the frames', () => {
    rejects(edited((i) => { i.header.step_frames = [0, 8, 4]; }), CorruptReplayError,
      /^corrupt replay: header\.step_frames\[2\]: 4 < 8; must be non-decreasing$/);
    // half-open: n_frames itself is outside
    rejects(edited((i) => { i.header.step_frames = [0, 4, 12]; }), CorruptReplayError,
      /^corrupt replay: header\.step_frames\[2\]: 12 is outside \[0, n_frames=12\)$/);
  });

  test('absurd sizes are refused before anything is allocated', () => {
    rejects(edited((i) => { i.streams.push({ name: 'huge', group: 'frames', dtype: 'float64', shape: [12, 2 ** 25] }); }),
      CorruptReplayError, /^corrupt replay: stream table: the streams would decode to \d+ bytes, more than this viewer's limit of 2147483648$/);
  });
});

describe('chunk table', () => {
  test('undeclared stream, broken coverage, wrong raw_length, negative offset', () => {
    rejects(edited((i) => { i.chunks[0].stream = 'ghost'; }), CorruptReplayError,
      /^corrupt replay: chunk table: chunk 0 \(stream 'ghost', rows 0\.\.4\) names an undeclared stream$/);
    rejects(edited((i) => { i.chunks.splice(4, 1); }), CorruptReplayError,
      /^corrupt replay: chunk table: chunk 4 \(stream 'qpos', rows 8\.\.12\) does not continue the stream at row 4$/);
    rejects(edited((i) => { i.chunks.splice(5, 1); }), CorruptReplayError,
      /^corrupt replay: chunk table: chunks of stream 'qpos' cover 8 of 12 rows$/);
    rejects(edited((i) => { i.chunks[5].row_count = 5; i.chunks[5].raw_length = 320; }), CorruptReplayError,
      /chunk 5 \(stream 'qpos', rows 8\.\.13\) runs past the stream's 12 rows/);
    rejects(edited((i) => { i.chunks[7].raw_length += 8; }), CorruptReplayError,
      /chunk 7 \(stream 'qvel', rows 4\.\.8\) has raw_length 232, expected 4 rows \* 7 columns \* 8/);
    rejects(edited((i) => { i.chunks[3].offset = -1; }), CorruptReplayError, /chunk 3 .* has a negative offset or length/);
  });
});

describe('chunk payloads', () => {
  test('a payload past the end of the file is a truncation', () => {
    rejects(GOLDEN.subarray(0, GOLDEN.length - 1), CorruptReplayError,
      /^truncated replay: chunk 13 \(stream 'progress', rows 0\.\.3\) needs data bytes \d+\.\.\d+, the file has \d+$/);
  });

  test('a flipped payload byte fails that chunk\'s CRC-32', () => {
    const qpos = INDEX.chunks[4];
    rejects(flipped(DATA_START + qpos.offset + (qpos.length >> 1)), CorruptReplayError,
      /^corrupt replay: chunk 4 \(stream 'qpos', rows 4\.\.8\) fails its CRC-32 check \(computed 0x[0-9a-f]{8}, stored 0x[0-9a-f]{8}\)$/);
  });

  test('bad zstd data, and a decompressed size other than raw_length', () => {
    rejects(withPayload(4, Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 1, 0, 0, 7, 7, 7)), CorruptReplayError,
      /^corrupt replay: chunk 4 \(stream 'qpos', rows 4\.\.8\) holds bad zstd data \(/);
    rejects(withPayload(4, Uint8Array.of(9, 9, 9, 9)), CorruptReplayError, /chunk 4 .* holds bad zstd data/);
    const short = new Uint8Array(4 * 8 * 8 - 8);
    rejects(withPayload(4, zstdStored(short)), CorruptReplayError,
      /^corrupt replay: chunk 4 \(stream 'qpos', rows 4\.\.8\) declares 248 decompressed bytes, the chunk table says 256$/);
    rejects(withPayload(4, zstdStored(short, { contentSize: null })), CorruptReplayError,
      /^corrupt replay: chunk 4 \(stream 'qpos', rows 4\.\.8\)'s zstd frame does not declare its content size$/);
    const right = zstdStored(new Uint8Array(256));
    rejects(withPayload(4, concat([right, Uint8Array.of(0)])), CorruptReplayError,
      /^corrupt replay: chunk 4 \(stream 'qpos', rows 4\.\.8\) holds bad zstd data \(1 bytes after the frame\)$/);
    rejects(withPayload(4, concat([right, right])), CorruptReplayError, /holds bad zstd data \(\d+ bytes after the frame\)/);
    rejects(withPayload(4, right.subarray(0, right.length - 1)), CorruptReplayError,
      /holds bad zstd data \(the frame runs past the payload\)$/);
  });

  test('a stored (uncompressed) zstd frame with the right size decodes', () => {
    const { frames } = decodeReplay(GOLDEN);
    const zeros = withPayload(4, zstdStored(new Uint8Array(256)));
    const qpos = decodeReplay(zeros).frames.qpos;
    assert.deepEqual(qpos.subarray(0, 32), frames.qpos.subarray(0, 32));
    assert.deepEqual([...qpos.subarray(32, 64)], new Array(32).fill(0));
  });
});

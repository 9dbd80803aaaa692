"""The wire protocol between synthline (TypeScript) and this runner: no torch here.

Requests come on stdin as frames: a 4-byte big-endian length, that many bytes of a UTF-8 JSON
header, then, when the header has ``"bytes": k``, k raw bytes (an image's pixels). Replies go to
stdout as JSON lines; stderr is free-form logging that synthline keeps as a tail for errors.

TypeScript decides, Python executes: synthline decodes, resizes and labels every image; the
runner only trains and predicts, and reports what it did.

Requests, in order:
  {"type": "start", "protocol": 1, "num_classes": C, "size": S, "train": N, "test": M, ...}
  N x {"type": "image", "split": "train", "target": k, "bytes": S*S*3}   then the RGB pixels
  M x {"type": "image", "split": "test", "target": k, "bytes": S*S*3}
  {"type": "run"}
Replies:
  {"type": "hello", ...versions}  first, once torch imported (or an error NO_TORCH)
  {"type": "epoch", ...}          after each epoch
  {"type": "result", ...}         the test predictions, then the runner exits 0
  {"type": "error", "code": C, "message": M}  then the runner exits 1
"""

import json
import struct

PROTOCOL = 1

#: Error codes a reply may carry.
ERROR_CODES = ("NO_TORCH", "NO_CUDA", "BAD_WEIGHTS", "BAD_REQUEST", "INTERNAL")

#: Settings of a start request: name -> (type, default); None default means required.
START_FIELDS = {
    "protocol": (int, None),
    "num_classes": (int, None),
    "size": (int, None),
    "train": (int, None),
    "test": (int, None),
    "epochs": (int, 3),
    "steps": (int, 0),
    "batch_size": (int, 32),
    "lr": (float, 0.003),
    "seed": (int, 0),
    "threads": (int, 1),
    "device": (str, "cpu"),
    "backbone": (str, "small-cnn"),
    "weights": (str, ""),
    "augment": (bool, True),
}

BACKBONES = ("small-cnn", "resnet18")


class ProtocolError(Exception):
    """A request that breaks the protocol; reported as BAD_REQUEST."""


class EndOfInput(ProtocolError):
    """stdin closed before the request was whole."""


def read_exact(stream, n):
    """Exactly n bytes from a binary stream, else EndOfInput."""
    chunks = []
    left = n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            raise EndOfInput("input ended %d bytes short of a frame" % left)
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    """One request: (header dict, payload bytes or b"")."""
    (length,) = struct.unpack(">I", read_exact(stream, 4))
    if length > 1 << 20:
        raise ProtocolError("header of %d bytes: too long" % length)
    try:
        header = json.loads(read_exact(stream, length).decode("utf-8"))
    except ValueError as err:
        raise ProtocolError("header is not JSON: %s" % err)
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ProtocolError("header is not an object with a type")
    size = header.get("bytes", 0)
    if not isinstance(size, int) or size < 0:
        raise ProtocolError("bytes must be a non-negative integer")
    return header, read_exact(stream, size) if size else b""


def encode_frame(header, payload=b""):
    """A request as bytes (the runner's tests build input with it)."""
    if payload:
        header = dict(header, bytes=len(payload))
    body = json.dumps(header).encode("utf-8")
    return struct.pack(">I", len(body)) + body + payload


def parse_start(header):
    """The settings of a start request, checked and with defaults filled in."""
    if header.get("type") != "start":
        raise ProtocolError("expected a start request, got %r" % header.get("type"))
    out = {}
    for name, (kind, default) in START_FIELDS.items():
        value = header.get(name, default)
        if value is None:
            raise ProtocolError("start: missing %s" % name)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProtocolError("start: %s must be %s" % (name, kind.__name__))
        out[name] = value
    if out["protocol"] != PROTOCOL:
        raise ProtocolError("protocol %d; this runner speaks %d" % (out["protocol"], PROTOCOL))
    if out["num_classes"] < 2:
        raise ProtocolError("start: num_classes must be at least 2")
    if out["size"] < 16 or out["size"] > 1024:
        raise ProtocolError("start: size must be from 16 to 1024")
    if out["train"] < 1 or out["test"] < 1:
        raise ProtocolError("start: train and test must each have an image")
    if out["epochs"] < 1 or out["batch_size"] < 1 or out["threads"] < 1 or out["steps"] < 0:
        raise ProtocolError("start: epochs, batch_size and threads must be positive")
    if out["backbone"] not in BACKBONES:
        raise ProtocolError("start: backbone must be one of %s" % ", ".join(BACKBONES))
    if out["device"] not in ("cpu", "cuda"):
        raise ProtocolError("start: device must be cpu or cuda")
    return out


def check_image(header, payload, settings):
    """(split, target) of an image request, checked against the start settings."""
    if header.get("type") != "image":
        raise ProtocolError("expected an image request, got %r" % header.get("type"))
    split = header.get("split")
    if split not in ("train", "test"):
        raise ProtocolError("image: split must be train or test")
    target = header.get("target")
    if not isinstance(target, int) or isinstance(target, bool):
        raise ProtocolError("image: target must be an integer")
    if not 0 <= target < settings["num_classes"]:
        raise ProtocolError(
            "image: target %d outside 0..%d" % (target, settings["num_classes"] - 1)
        )
    want = settings["size"] * settings["size"] * 3
    if len(payload) != want:
        raise ProtocolError(
            "image: %d bytes, expected %d (RGB, size x size)" % (len(payload), want)
        )
    return split, target


def reply(stream, message):
    """Writes one reply line and flushes it."""
    stream.write(json.dumps(message, separators=(",", ":")) + "\n")
    stream.flush()


def error(code, message):
    """An error reply."""
    assert code in ERROR_CODES, code
    return {"type": "error", "code": code, "message": message}

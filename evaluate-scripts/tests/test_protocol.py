"""The runner's wire format, without torch."""

import io
import unittest

from synthline_eval import protocol

START = {"type": "start", "protocol": 1, "num_classes": 2, "size": 16, "train": 1, "test": 1}


class ProtocolTest(unittest.TestCase):
    def test_frames_round_trip(self):
        stream = io.BytesIO(
            protocol.encode_frame({"type": "image"}, b"abc")
            + protocol.encode_frame({"type": "run"})
        )
        self.assertEqual(protocol.read_frame(stream), ({"type": "image", "bytes": 3}, b"abc"))
        self.assertEqual(protocol.read_frame(stream), ({"type": "run"}, b""))
        with self.assertRaises(protocol.EndOfInput):
            protocol.read_frame(stream)

    def test_truncated_payload_is_an_error(self):
        data = protocol.encode_frame({"type": "image"}, b"abcdef")[:-2]
        with self.assertRaisesRegex(protocol.EndOfInput, "2 bytes short"):
            protocol.read_frame(io.BytesIO(data))

    def test_start_defaults_and_checks(self):
        s = protocol.parse_start(START)
        self.assertEqual(
            (s["epochs"], s["backbone"], s["device"], s["lr"]), (3, "small-cnn", "cpu", 0.003)
        )
        self.assertEqual(protocol.parse_start(dict(START, lr=1))["lr"], 1.0)
        for bad, why in [
            (dict(START, protocol=2), "protocol 2"),
            (dict(START, num_classes=1), "num_classes"),
            (dict(START, backbone="vgg"), "backbone"),
            (dict(START, device="tpu"), "device"),
            (dict(START, epochs=True), "epochs must be int"),
            ({k: v for k, v in START.items() if k != "size"}, "missing size"),
        ]:
            with self.assertRaisesRegex(protocol.ProtocolError, why):
                protocol.parse_start(bad)

    def test_image_checks(self):
        s = protocol.parse_start(START)
        pixels = bytes(16 * 16 * 3)
        self.assertEqual(
            protocol.check_image({"type": "image", "split": "test", "target": 1}, pixels, s),
            ("test", 1),
        )
        with self.assertRaisesRegex(protocol.ProtocolError, "outside 0..1"):
            protocol.check_image({"type": "image", "split": "test", "target": 2}, pixels, s)
        with self.assertRaisesRegex(protocol.ProtocolError, "767 bytes"):
            protocol.check_image({"type": "image", "split": "train", "target": 0}, pixels[1:], s)


if __name__ == "__main__":
    unittest.main()

"""The runner end to end on tiny separable images (needs PyTorch: Debian's python3-torch)."""

import io
import json
import random
import unittest

import eval_runner
from synthline_eval import protocol


def solid(rgb, size, rng):
    """A size x size image of one colour with a little noise."""
    out = bytearray()
    for _ in range(size * size):
        out += bytes(max(0, min(255, c + rng.randint(-20, 20))) for c in rgb)
    return bytes(out)


def request(settings, train, test):
    data = protocol.encode_frame(dict({"type": "start", "protocol": 1}, **settings))
    for split, items in (("train", train), ("test", test)):
        for target, pixels in items:
            data += protocol.encode_frame(
                {"type": "image", "split": split, "target": target}, pixels
            )
    return data + protocol.encode_frame({"type": "run"})


def run(data):
    out = io.StringIO()
    code = eval_runner.serve(io.BytesIO(data), out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


class RunnerTest(unittest.TestCase):
    def setUp(self):
        rng = random.Random(1)
        colours = [(200, 30, 30), (30, 30, 200)]
        self.train = [(i % 2, solid(colours[i % 2], 16, rng)) for i in range(24)]
        self.test = [(i % 2, solid(colours[i % 2], 16, rng)) for i in range(8)]
        self.settings = {"num_classes": 2, "size": 16, "train": 24, "test": 8, "epochs": 3}
        self.settings.update({"batch_size": 8, "seed": 5, "threads": 1})

    def test_learns_colours_and_repeats_itself(self):
        code, replies = run(request(self.settings, self.train, self.test))
        self.assertEqual(code, 0, replies)
        self.assertEqual(
            [r["type"] for r in replies], ["hello", "epoch", "epoch", "epoch", "result"]
        )
        result = replies[-1]
        self.assertEqual(result["predictions"], [t for t, _ in self.test])
        again = run(request(self.settings, self.train, self.test))[1][-1]
        self.assertEqual(again["predictions"], result["predictions"])
        self.assertEqual(again["confidence"], result["confidence"])

    def test_fixed_steps(self):
        code, replies = run(request(dict(self.settings, steps=4), self.train, self.test))
        self.assertEqual(code, 0, replies)
        self.assertEqual((replies[-1]["steps"], replies[-1]["epochs"]), (4, 2))

    def test_wrong_count_is_bad_request(self):
        code, replies = run(request(dict(self.settings, train=25), self.train, self.test))
        self.assertEqual(code, 1)
        self.assertEqual(replies[-1]["code"], "BAD_REQUEST")

    def test_resnet_without_weights(self):
        code, replies = run(
            request(dict(self.settings, backbone="resnet18"), self.train, self.test)
        )
        self.assertEqual(code, 1)
        self.assertEqual(replies[-1]["code"], "BAD_WEIGHTS")
        self.assertIn("never downloads", replies[-1]["message"])


if __name__ == "__main__":
    unittest.main()

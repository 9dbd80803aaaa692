"""Entry point of the evaluation runner: `python3 eval_runner.py` reads requests on stdin and
writes replies on stdout (synthline_eval/protocol.py); `--probe` only reports the versions.

Exit status: 0 done, 1 an error reply was written (NO_TORCH, NO_CUDA, BAD_WEIGHTS, ...)."""

import os
import platform
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from synthline_eval import protocol  # noqa: E402


def hello():
    """The hello reply; imports torch, so it raises ImportError where torch is missing."""
    import torch
    import torchvision

    return {
        "type": "hello",
        "protocol": protocol.PROTOCOL,
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.cuda.is_available(),
        "cuda_devices": torch.cuda.device_count() if torch.cuda.is_available() else 0,
    }


def no_torch(err):
    return protocol.error(
        "NO_TORCH",
        "%s (%s) cannot import PyTorch: %s. Install it (Debian/Ubuntu: apt-get install "
        "python3-torch python3-torchvision), or point SYNTHLINE_PYTHON at a Python that has "
        "torch and torchvision" % (sys.executable, platform.python_version(), err),
    )


def serve(stdin, stdout):
    try:
        stdout_hello = hello()
    except ImportError as err:
        protocol.reply(stdout, no_torch(err))
        return 1
    protocol.reply(stdout, stdout_hello)

    import torch
    from synthline_eval import probe, train

    try:
        header, _ = protocol.read_frame(stdin)
        settings = protocol.parse_start(header)
        size = settings["size"]
        data = {
            "train": (torch.empty((settings["train"], 3, size, size), dtype=torch.uint8), []),
            "test": (torch.empty((settings["test"], 3, size, size), dtype=torch.uint8), []),
        }
        for _ in range(settings["train"] + settings["test"]):
            header, payload = protocol.read_frame(stdin)
            split, target = protocol.check_image(header, payload, settings)
            images, targets = data[split]
            if len(targets) >= images.shape[0]:
                raise protocol.ProtocolError("more %s images than the start request said" % split)
            images[len(targets)] = train.to_tensor(payload, size)
            targets.append(target)
        header, _ = protocol.read_frame(stdin)
        if header.get("type") != "run":
            raise protocol.ProtocolError("expected run, got %r" % header.get("type"))
    except protocol.ProtocolError as err:
        protocol.reply(stdout, protocol.error("BAD_REQUEST", str(err)))
        return 1
    try:
        result = train.run(
            settings,
            data["train"][0],
            data["train"][1],
            data["test"][0],
            data["test"][1],
            lambda e: protocol.reply(stdout, e),
        )
    except train.NoCudaError as err:
        protocol.reply(stdout, protocol.error("NO_CUDA", str(err)))
        return 1
    except probe.WeightsError as err:
        protocol.reply(stdout, protocol.error("BAD_WEIGHTS", str(err)))
        return 1
    except Exception as err:  # noqa: BLE001 - reported with its traceback, never swallowed
        message = "%s: %s\n%s" % (type(err).__name__, err, traceback.format_exc())
        protocol.reply(stdout, protocol.error("INTERNAL", message))
        return 1
    protocol.reply(stdout, result)
    return 0


def main(argv):
    if "--probe" in argv:
        try:
            protocol.reply(sys.stdout, hello())
        except ImportError as err:
            protocol.reply(sys.stdout, no_torch(err))
            return 1
        return 0
    return serve(sys.stdin.buffer, sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Training and testing a probe on images already decoded and resized by synthline."""

import math
import time

import torch
from torch import nn

from . import probe

# ImageNet's channel means and deviations: what torchvision's backbones were trained with.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class NoCudaError(Exception):
    """--device cuda on a machine (or a torch build) without CUDA."""


def seed_everything(seed, threads, device):
    """Same inputs, same seed, same thread count: the same weights and predictions on the CPU."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    if device == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def pick_device(name):
    if name == "cuda":
        if not torch.cuda.is_available():
            raise NoCudaError(
                "--device cuda: this PyTorch (%s) sees no CUDA device; use --device cpu, or "
                "a CUDA build of PyTorch on a machine with an NVIDIA GPU" % torch.__version__
            )
        return torch.device("cuda")
    return torch.device("cpu")


def to_tensor(pixels, size):
    """Raw RGB bytes (size x size x 3) as a uint8 CHW tensor."""
    flat = torch.frombuffer(bytearray(pixels), dtype=torch.uint8)
    return flat.view(size, size, 3).permute(2, 0, 1).contiguous()


def normalise(batch, device):
    x = batch.to(device, dtype=torch.float32).div_(255.0)
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(batch, generator):
    """Random horizontal flips and shifts of up to 1/16 of the side, drawn from `generator`."""
    n, _, h, w = batch.shape
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip.view(n, 1, 1, 1), batch.flip(3), batch)
    pad = max(1, h // 16)
    padded = nn.functional.pad(batch, (pad, pad, pad, pad), mode="replicate")
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    out = torch.empty_like(batch)
    for i in range(n):
        y, x = int(dy[i]), int(dx[i])
        out[i] = padded[i, :, y : y + h, x : x + w]
    return out


def predict(model, images, device, batch_size):
    """(predicted class, its softmax probability) of every image, in order."""
    model.eval()
    preds = []
    confs = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            x = normalise(images[start : start + batch_size], device)
            prob = torch.softmax(model(x).float(), dim=1)
            conf, pred = prob.max(dim=1)
            preds += pred.cpu().tolist()
            confs += conf.cpu().tolist()
    return preds, confs


def accuracy(preds, targets):
    return sum(int(p == t) for p, t in zip(preds, targets)) / max(1, len(targets))


def run(settings, train_x, train_y, test_x, test_y, on_epoch):
    """Trains the probe and predicts the test set; `on_epoch(dict)` after each epoch.

    With `steps` > 0 training takes exactly that many batches (the ratio sweep's equal budget),
    else `epochs` passes over the training set."""
    device = pick_device(settings["device"])
    seed_everything(settings["seed"], settings["threads"], settings["device"])
    model = probe.build(settings["backbone"], settings["num_classes"], settings["weights"])
    model.to(device)
    gen = torch.Generator().manual_seed(settings["seed"])
    bs = min(settings["batch_size"], train_x.shape[0])
    per_epoch = math.ceil(train_x.shape[0] / bs)
    total = settings["steps"] or settings["epochs"] * per_epoch
    epochs = math.ceil(total / per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=settings["lr"], weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings["lr"], total_steps=total)
    loss_fn = nn.CrossEntropyLoss()
    targets = torch.tensor(train_y, dtype=torch.long)
    step = 0
    started = time.monotonic()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(train_x.shape[0], generator=gen)
        seen = correct = 0
        loss_sum = 0.0
        t0 = time.monotonic()
        for start in range(0, order.shape[0], bs):
            if step >= total:
                break
            idx = order[start : start + bs]
            x = normalise(train_x[idx], device)
            if settings["augment"]:
                x = augment(x.cpu(), gen).to(device)
            y = targets[idx].to(device)
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = loss_fn(logits, y)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += idx.shape[0]
            loss_sum += float(loss) * idx.shape[0]
            correct += int((logits.argmax(dim=1) == y).sum())
        train_s = time.monotonic() - t0
        preds, _ = predict(model, test_x, device, 256)
        on_epoch(
            {
                "type": "epoch",
                "epoch": epoch,
                "epochs": epochs,
                "steps": step,
                "images": seen,
                "loss": loss_sum / max(1, seen),
                "train_accuracy": correct / max(1, seen),
                "test_accuracy": accuracy(preds, test_y),
                "train_seconds": train_s,
                "images_per_s": seen / train_s if train_s > 0 else None,
            }
        )
    preds, confs = predict(model, test_x, device, 256)
    return {
        "type": "result",
        "predictions": preds,
        "confidence": [round(c, 6) for c in confs],
        "test_accuracy": accuracy(preds, test_y),
        "steps": step,
        "epochs": epochs,
        "batch_size": bs,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "parameters": probe.parameter_count(model),
        "seconds": time.monotonic() - started,
    }

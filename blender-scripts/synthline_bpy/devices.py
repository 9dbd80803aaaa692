"""Which Cycles device to render on: pure logic, no bpy (compat.py does the Blender part).

Given the devices Blender reports (type, name, id each) and a request (kind, optional device
index, whether falling back to the CPU is allowed), `choose` decides what to enable or raises
DeviceUnavailable with a message naming the request and every device Blender found:

    requested cuda, but Blender found: CPU "AMD EPYC" (CPU)

Kinds: auto | cpu | cuda | optix | hip | metal | oneapi. `auto` takes the best GPU kind present
(optix > cuda > hip > metal > oneapi), else the CPU. A device index counts the devices of the
chosen kind in Blender's order (0 = the first CUDA device, ...) and binds one Blender to that one
GPU; without an index every device of the kind is enabled. The index is ignored on the CPU.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

GPU_KINDS: Tuple[str, ...] = ("optix", "cuda", "hip", "metal", "oneapi")  # best first
KINDS: Tuple[str, ...] = ("auto", "cpu") + GPU_KINDS


class DeviceUnavailable(RuntimeError):
    """The requested GPU is not there (and CPU fallback was not allowed)."""


@dataclass(frozen=True)
class Device:
    """One entry of Blender's device list: type CPU|CUDA|OPTIX|HIP|METAL|ONEAPI."""
    type: str
    name: str
    id: str

    def to_json(self) -> dict:
        return {"type": self.type, "name": self.name, "id": self.id}


@dataclass(frozen=True)
class Choice:
    """What to enable: `kind` 'cpu' or a GPU kind; `enable` the GPU devices to switch on."""
    kind: str
    compute_device_type: str  # Cycles preference: NONE (CPU) | CUDA | OPTIX | HIP | METAL | ONEAPI
    enable: Tuple[Device, ...] = ()
    label: str = "cpu"  # what the labels record: "cpu" | "cuda:0 NVIDIA A10" | ...
    fallback: bool = False  # the requested GPU was absent and the CPU was taken instead
    note: str = ""  # why, on a fallback
    indices: Tuple[int, ...] = field(default=())

    @property
    def scene_device(self) -> str:
        """scene.cycles.device: 'CPU' or 'GPU'."""
        return "CPU" if self.kind == "cpu" else "GPU"


def as_devices(raw: Iterable) -> List[Device]:
    """Devices from Device objects, dicts or (name, type, id, ...) tuples (Cycles' own layout)."""
    out: List[Device] = []
    seen = set()
    for d in raw:
        if isinstance(d, Device):
            dev = d
        elif isinstance(d, dict):
            dev = Device(str(d["type"]), str(d["name"]), str(d["id"]))
        else:  # _cycles.available_devices(): (name, type, id, ...)
            dev = Device(str(d[1]), str(d[0]), str(d[2]))
        key = (dev.type, dev.id)
        if key not in seen:  # Blender keys its entries by (type, id)
            seen.add(key)
            out.append(dev)
    return out


def of_kind(devices: Sequence[Device], kind: str) -> List[Device]:
    """The devices of one kind ('cuda' -> type CUDA), in Blender's order."""
    t = kind.upper()
    return [d for d in devices if d.type == t]


def describe(devices: Sequence[Device]) -> str:
    """`CPU "AMD EPYC" (CPU), CUDA "NVIDIA A10" (CUDA_NVIDIA A10_0000:00:1e)` or `no devices`."""
    if not devices:
        return "no devices"
    return ", ".join(f'{d.type} "{d.name}" ({d.id})' for d in devices)


def best_gpu_kind(devices: Sequence[Device]) -> Optional[str]:
    for k in GPU_KINDS:
        if of_kind(devices, k):
            return k
    return None


def _cpu(fallback: bool = False, note: str = "") -> Choice:
    return Choice(kind="cpu", compute_device_type="NONE", enable=(), label="cpu",
                  fallback=fallback, note=note)


def _check_request(kind: str, index: Optional[int]) -> str:
    if not isinstance(kind, str) or kind.lower() not in KINDS:
        raise ValueError(f"unknown device kind {kind!r} (one of {', '.join(KINDS)})")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
        raise ValueError(f"device index must be an integer >= 0, got {index!r}")
    return kind.lower()


def choose(devices: Iterable, kind: str = "auto", index: Optional[int] = None,
           allow_cpu_fallback: bool = False) -> Choice:
    """Decides what to render on; raises DeviceUnavailable (or ValueError for a bad request)."""
    kind = _check_request(kind, index)
    devs = as_devices(devices)
    if kind == "cpu":
        return _cpu()
    resolved = kind
    if kind == "auto":
        best = best_gpu_kind(devs)
        if best is None:
            return _cpu()  # auto on a machine without GPU: the CPU, not a fallback
        resolved = best
    gpus = of_kind(devs, resolved)
    if not gpus or (index is not None and index >= len(gpus)):
        req = kind if kind == resolved else f"{kind} ({resolved})"
        if index is not None:
            req += f":{index}"
        msg = f"requested {req}, but Blender found: {describe(devs)}"
        if allow_cpu_fallback:
            return _cpu(fallback=True, note=msg)
        raise DeviceUnavailable(msg)
    picked = [index] if index is not None else list(range(len(gpus)))
    label = ", ".join(f"{resolved}:{i} {gpus[i].name}" for i in picked)
    return Choice(kind=resolved, compute_device_type=resolved.upper(),
                  enable=tuple(gpus[i] for i in picked), label=label, indices=tuple(picked))


def uses(choice: Choice, device: Device) -> bool:
    """Whether `device` is switched on under `choice` (the CPU never is on a GPU choice)."""
    return any(d.type == device.type and d.id == device.id for d in choice.enable)

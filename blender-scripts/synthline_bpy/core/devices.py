"""Cycles devices on the Python side, with no bpy: what Blender lists, and what to switch on.

The choice is made in TypeScript (packages/blender/src/devices.ts), never here: the render server
lists the devices Blender finds (compat.cycles_devices) in its first line, the driver answers with
a `use_device` request (protocol.schema.json: UseDeviceRequest), and compat.apply_cycles_device
switches Cycles to exactly that.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Tuple

from . import protocol


@dataclass(frozen=True)
class Device:
    """One entry of Blender's device list: type CPU|CUDA|OPTIX|HIP|METAL|ONEAPI."""

    type: str
    name: str
    id: str

    def to_json(self) -> dict:
        return {"type": self.type, "name": self.name, "id": self.id}


@dataclass(frozen=True)
class UseDevice:
    """The driver's decision: `kind` 'cpu' or a GPU kind, and which devices to switch on."""

    kind: str
    index: Optional[int]  # the one GPU of the kind this process is bound to; None: all, or the CPU
    compute_device_type: str  # Cycles preference: NONE (CPU) | CUDA | OPTIX | HIP | METAL | ONEAPI
    enable: Tuple[str, ...]  # device ids to switch on; every other device (the CPU too) goes off
    label: str  # what results and labels record: "cpu" | "cuda:0 NVIDIA A10" | ...

    @property
    def scene_device(self) -> str:
        """scene.cycles.device: 'CPU' or 'GPU'."""
        return "CPU" if self.kind == "cpu" else "GPU"

    def uses(self, device: Device) -> bool:
        """Whether `device` is switched on (the CPU never is on a GPU choice)."""
        return device.type == self.compute_device_type and device.id in self.enable

    def check_found(self, devices: Iterable[Device]) -> None:
        """Raises DeviceNotFound unless a GPU choice names devices to enable and every one of them
        is among `devices` (of its compute type): Cycles would otherwise render, without a word,
        on whatever was on before, or on the CPU."""
        if self.kind == "cpu":
            return
        found = list(devices)
        ids = {d.id for d in found if d.type == self.compute_device_type}
        missing = [i for i in self.enable if i not in ids]
        if missing or not self.enable:
            asked = ", ".join(self.enable) or "no device id"
            raise DeviceNotFound(
                f"use_device asks for {self.compute_device_type} {asked}, but Blender found: "
                f"{describe(found)} (the ids to enable must be ones of this process's devices line)"
            )


class DeviceNotFound(RuntimeError):
    """A `use_device` request names a device Blender did not find (a START_FAILED start error)."""


def describe(devices: Iterable[Device]) -> str:
    """`CPU "AMD EPYC" (CPU), CUDA "NVIDIA A10" (CUDA_0)`: every device, for messages (the format
    of describeDevices in packages/blender/src/devices.ts, so both sides' errors read alike)."""
    out = [f'{d.type} "{d.name}" ({d.id})' for d in devices]
    return ", ".join(out) if out else "no devices"


def parse_use_device(req: Any) -> UseDevice:
    """A `use_device` request -> UseDevice; raises protocol.SchemaError naming the bad field."""
    r = protocol.validate("UseDeviceRequest", req, path="use_device")
    return UseDevice(
        kind=r["kind"],
        index=r["index"],
        compute_device_type=r["compute_device_type"],
        enable=tuple(r["enable"]),
        label=r["label"],
    )


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

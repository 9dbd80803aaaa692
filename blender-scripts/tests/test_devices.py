import unittest

from synthline_bpy.core import devices
from synthline_bpy.core.devices import Device, UseDevice, parse_use_device
from synthline_bpy.core.protocol import SchemaError

CPU = Device("CPU", "AMD EPYC", "CPU")
A10 = [
    Device("CUDA", "NVIDIA A10", "CUDA_NVIDIA A10_0000:00:1e"),
    Device("CUDA", "NVIDIA A10", "CUDA_NVIDIA A10_0000:00:1f"),
]
A10_OPTIX = [Device("OPTIX", d.name, d.id.replace("CUDA", "OPTIX")) for d in A10]

# The choice itself is TypeScript's (packages/blender/src/devices.test.ts); here: the request it
# sends, and what it switches on.
CUDA_1 = {
    "op": "use_device",
    "kind": "cuda",
    "index": 1,
    "compute_device_type": "CUDA",
    "enable": [A10[1].id],
    "label": "cuda:1 NVIDIA A10",
}
ON_CPU = {
    "op": "use_device",
    "kind": "cpu",
    "index": None,
    "compute_device_type": "NONE",
    "enable": [],
    "label": "cpu",
}


class UseDeviceTest(unittest.TestCase):
    def test_parse(self):
        u = parse_use_device(CUDA_1)
        self.assertEqual(u, UseDevice("cuda", 1, "CUDA", (A10[1].id,), "cuda:1 NVIDIA A10"))
        self.assertEqual(u.scene_device, "GPU")
        c = parse_use_device(ON_CPU)
        self.assertEqual((c.kind, c.label, c.scene_device, c.enable), ("cpu", "cpu", "CPU", ()))

    def test_switches_on_exactly_the_listed_devices_of_its_type(self):
        u = parse_use_device(CUDA_1)
        self.assertEqual(
            [u.uses(d) for d in [CPU] + A10 + A10_OPTIX], [False, False, True, False, False]
        )
        self.assertFalse(parse_use_device(ON_CPU).uses(CPU))

    def test_check_found(self):
        parse_use_device(CUDA_1).check_found([CPU] + A10)
        parse_use_device(ON_CPU).check_found([])  # the CPU needs no device id
        found = [CPU, A10[0]]
        listed = f'CPU "AMD EPYC" (CPU), CUDA "NVIDIA A10" ({A10[0].id})'
        for req, asked in (
            (CUDA_1, f"CUDA {A10[1].id}"),  # not found
            (dict(CUDA_1, compute_device_type="OPTIX", enable=[A10[0].id]), f"OPTIX {A10[0].id}"),
            (dict(CUDA_1, enable=[]), "CUDA no device id"),
        ):
            with self.assertRaises(devices.DeviceNotFound) as cm:
                parse_use_device(req).check_found(found)
            self.assertTrue(
                str(cm.exception).startswith(
                    f"use_device asks for {asked}, but Blender found: {listed} ("
                ),
                str(cm.exception),
            )
        self.assertEqual(devices.describe([]), "no devices")

    def test_bad_requests_name_the_field(self):
        for key, value, path in (
            ("kind", "gpu", "use_device.kind"),
            ("kind", "auto", "use_device.kind"),
            ("index", -1, "use_device.index"),
            ("index", 1.5, "use_device.index"),
            ("compute_device_type", "OPENCL", "use_device.compute_device_type"),
            ("label", "", "use_device.label"),
            ("extra", 1, "use_device.extra"),
        ):
            with self.assertRaisesRegex(SchemaError, "^" + path.replace(".", r"\.")):
                parse_use_device(dict(CUDA_1, **{key: value}))
        with self.assertRaisesRegex(SchemaError, r"^use_device: expected an object"):
            parse_use_device([])

    def test_device_list_shapes(self):
        # Cycles' own tuples (name, type, id, peer memory), dicts and Device objects; duplicates
        # (same type and id) collapse as in Blender's preferences.
        raw = [
            ("AMD EPYC", "CPU", "CPU", False),
            {"type": "CUDA", "name": "NVIDIA A10", "id": "x"},
            Device("CUDA", "NVIDIA A10", "x"),
        ]
        self.assertEqual(devices.as_devices(raw), [CPU, Device("CUDA", "NVIDIA A10", "x")])
        self.assertEqual(CPU.to_json(), {"type": "CPU", "name": "AMD EPYC", "id": "CPU"})


if __name__ == "__main__":
    unittest.main()

import unittest

from synthline_bpy import devices
from synthline_bpy.devices import Device, DeviceUnavailable, choose

CPU = Device("CPU", "AMD EPYC", "CPU")
A10 = [Device("CUDA", "NVIDIA A10", "CUDA_NVIDIA A10_0000:00:1e"),
       Device("CUDA", "NVIDIA A10", "CUDA_NVIDIA A10_0000:00:1f")]
A10_OPTIX = [Device("OPTIX", d.name, d.id.replace("CUDA", "OPTIX")) for d in A10]
HIP = [Device("HIP", "AMD Radeon PRO W7900", "HIP_AMD Radeon PRO W7900_0000:03:00")]
METAL = [Device("METAL", "Apple M2 Max (GPU - 38 cores)", "METAL_Apple M2 Max")]
ONEAPI = [Device("ONEAPI", "Intel Arc A770", "ONEAPI_Intel Arc A770_0000:03:00")]


class ChooseTest(unittest.TestCase):
    def test_cpu_only_machine(self):
        for kind in ("auto", "cpu"):
            c = choose([CPU], kind)
            self.assertEqual((c.kind, c.label, c.scene_device, c.compute_device_type), ("cpu", "cpu", "CPU", "NONE"))
            self.assertFalse(c.fallback)
            self.assertEqual(c.enable, ())

    def test_gpu_absent_names_request_and_every_device(self):
        with self.assertRaises(DeviceUnavailable) as e:
            choose([CPU], "cuda")
        self.assertEqual(str(e.exception), 'requested cuda, but Blender found: CPU "AMD EPYC" (CPU)')
        for kind in ("optix", "hip", "metal", "oneapi"):
            with self.assertRaisesRegex(DeviceUnavailable, f"^requested {kind}, but Blender found: CPU "):
                choose([CPU] + A10, kind)
        with self.assertRaisesRegex(DeviceUnavailable, "found: no devices"):
            choose([], "cuda")

    def test_fallback_to_cpu(self):
        c = choose([CPU], "cuda", allow_cpu_fallback=True)
        self.assertEqual((c.kind, c.label, c.scene_device), ("cpu", "cpu", "CPU"))
        self.assertTrue(c.fallback)
        self.assertIn('requested cuda, but Blender found: CPU "AMD EPYC"', c.note)

    def test_auto_prefers_optix_then_cuda_then_hip_then_metal_then_oneapi(self):
        self.assertEqual(choose([CPU] + A10 + A10_OPTIX, "auto").kind, "optix")
        self.assertEqual(choose(A10 + [CPU], "auto").kind, "cuda")
        self.assertEqual(choose([CPU] + HIP, "auto").kind, "hip")
        self.assertEqual(choose([CPU] + METAL, "auto").kind, "metal")
        self.assertEqual(choose([CPU] + ONEAPI, "auto").kind, "oneapi")
        self.assertEqual(choose([CPU] + ONEAPI + HIP, "auto").kind, "hip")

    def test_every_gpu_kind_enables_its_devices_only(self):
        for kind, devs in (("cuda", A10), ("optix", A10_OPTIX), ("hip", HIP), ("metal", METAL),
                           ("oneapi", ONEAPI)):
            c = choose([CPU] + A10 + A10_OPTIX + HIP + METAL + ONEAPI, kind)
            self.assertEqual(c.kind, kind)
            self.assertEqual(c.compute_device_type, kind.upper())
            self.assertEqual(c.scene_device, "GPU")
            self.assertEqual(c.enable, tuple(devs))
            self.assertFalse(devices.uses(c, CPU))

    def test_all_gpus_of_a_kind_without_index(self):
        c = choose([CPU] + A10, "cuda")
        self.assertEqual(c.label, "cuda:0 NVIDIA A10, cuda:1 NVIDIA A10")
        self.assertEqual(c.indices, (0, 1))

    def test_device_index_binds_one_gpu(self):
        c = choose([CPU] + A10, "cuda", 1)
        self.assertEqual(c.enable, (A10[1],))
        self.assertEqual(c.label, "cuda:1 NVIDIA A10")
        self.assertTrue(devices.uses(c, A10[1]))
        self.assertFalse(devices.uses(c, A10[0]))
        c = choose([CPU] + A10 + A10_OPTIX, "auto", 0)
        self.assertEqual(c.label, "optix:0 NVIDIA A10")

    def test_device_index_out_of_range(self):
        with self.assertRaises(DeviceUnavailable) as e:
            choose([CPU] + A10, "cuda", 2)
        self.assertTrue(str(e.exception).startswith("requested cuda:2, but Blender found: CPU "))
        self.assertIn('CUDA "NVIDIA A10" (CUDA_NVIDIA A10_0000:00:1f)', str(e.exception))
        with self.assertRaisesRegex(DeviceUnavailable, r"^requested auto \(hip\):1, "):
            choose([CPU] + HIP, "auto", 1)
        self.assertTrue(choose([CPU] + A10, "cuda", 5, allow_cpu_fallback=True).fallback)

    def test_index_ignored_on_cpu(self):
        self.assertEqual(choose([CPU], "cpu", 3).label, "cpu")
        self.assertEqual(choose([CPU], "auto", 3).label, "cpu")

    def test_bad_requests(self):
        for kind in ("gpu", "", "opencl", None):
            with self.assertRaises(ValueError):
                choose([CPU], kind)
        for index in (-1, 1.5, True, "0"):
            with self.assertRaises(ValueError):
                choose([CPU], "cuda", index)
        self.assertEqual(choose([CPU] + A10, "CUDA").kind, "cuda")  # kind is case-insensitive

    def test_device_list_shapes(self):
        # Cycles' own tuples (name, type, id, peer memory), dicts and Device objects; duplicates
        # (same type and id) collapse as in Blender's preferences.
        raw = [("AMD EPYC", "CPU", "CPU", False), {"type": "CUDA", "name": "NVIDIA A10", "id": "x"},
               Device("CUDA", "NVIDIA A10", "x")]
        self.assertEqual(devices.as_devices(raw), [CPU, Device("CUDA", "NVIDIA A10", "x")])
        self.assertEqual(devices.describe([CPU] + HIP),
                         'CPU "AMD EPYC" (CPU), HIP "AMD Radeon PRO W7900" (HIP_AMD Radeon PRO W7900_0000:03:00)')
        self.assertEqual(CPU.to_json(), {"type": "CPU", "name": "AMD EPYC", "id": "CPU"})


if __name__ == "__main__":
    unittest.main()

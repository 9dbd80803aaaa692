"""compat.py on Blender 3.4 and 4.x without Blender: a stub `bpy` module per version.

Each test builds a fake bpy (version tuple, registered operators, node sockets, Cycles
preferences), injects it as sys.modules["bpy"], imports compat afresh and checks the branch
that version takes. Facts the stubs encode are listed in docs/blender-versions.md.
"""
import importlib
import sys
import types
import unittest
from types import SimpleNamespace

from synthline_bpy.core.devices import Device, DeviceNotFound, UseDevice

# ------------------------------------------------------------------------------ fake bpy


class Sock:
    def __init__(self, name, identifier=None):
        self.name = name
        self.identifier = identifier or name
        self.default_value = None


class Socks(list):
    def get(self, name, default=None):
        for s in self:
            if s.name == name:
                return s
        return default

    def __getitem__(self, key):
        if isinstance(key, str):
            s = self.get(key)
            if s is None:
                raise KeyError(key)
            return s
        return list.__getitem__(self, key)


class Node:
    def __init__(self, bl_idname, inputs=(), outputs=()):
        self.bl_idname = bl_idname
        self.inputs = Socks(inputs)
        self.outputs = Socks(outputs)


NODE_SOCKETS = {
    "ShaderNodeMixRGB": ([Sock("Fac"), Sock("Color1"), Sock("Color2")], [Sock("Color")]),
    "ShaderNodeMix": (
        [
            Sock("Factor", "Factor_Float"),
            Sock("Factor", "Factor_Vector"),
            Sock("A", "A_Float"),
            Sock("B", "B_Float"),
            Sock("A", "A_Color"),
            Sock("B", "B_Color"),
        ],
        [Sock("Result", "Result_Float"), Sock("Result", "Result_Color")],
    ),
    "ShaderNodeSeparateColor": ([Sock("Color")], [Sock("Red"), Sock("Green"), Sock("Blue")]),
    "ShaderNodeSeparateRGB": ([Sock("Image")], [Sock("R"), Sock("G"), Sock("B")]),
}


class Tree:
    def __init__(self):
        self.made = []
        self.nodes = SimpleNamespace(new=self._new)

    def _new(self, bl_idname):
        ins, outs = NODE_SOCKETS[bl_idname]
        node = Node(
            bl_idname,
            [Sock(s.name, s.identifier) for s in ins],
            [Sock(s.name, s.identifier) for s in outs],
        )
        self.made.append(node)
        return node


# Principled BSDF inputs (a subset) by version.
PRINCIPLED_3 = [
    "Base Color",
    "Subsurface",
    "Subsurface Color",
    "Metallic",
    "Specular",
    "Roughness",
    "Sheen",
    "Clearcoat",
    "Clearcoat Roughness",
    "Transmission",
    "Emission",
    "Emission Strength",
    "Alpha",
    "Clearcoat Normal",
]
PRINCIPLED_4 = [
    "Base Color",
    "Metallic",
    "Roughness",
    "IOR",
    "Alpha",
    "Subsurface Weight",
    "Specular IOR Level",
    "Specular Tint",
    "Coat Weight",
    "Coat Roughness",
    "Coat Normal",
    "Sheen Weight",
    "Transmission Weight",
    "Emission Color",
    "Emission Strength",
]


class Op:
    def __init__(self, path, registered, calls, result):
        self.path, self.registered, self.calls, self.result = path, registered, calls, result

    def get_rna_type(self):
        if not self.registered:
            raise KeyError(f"calling operator bpy.ops.{self.path} error, could not be found")
        return object()

    def __call__(self, **kw):
        self.calls.append((self.path, kw))
        return self.result


class OpModule:
    def __init__(self, name, ops, calls, result):
        self._name, self._ops, self._calls, self._result = name, ops, calls, result

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        path = f"{self._name}.{name}"
        return Op(path, path in self._ops, self._calls, self._result)


class Ops:
    def __init__(self, ops, result):
        self.calls = []
        self._ops, self._result = set(ops), result

    def __getattr__(self, module):
        if module.startswith("_"):
            raise AttributeError(module)
        return OpModule(module, self._ops, self.calls, self._result)


class PrefDevice:
    def __init__(self, type, name, id, use=True):
        self.type, self.name, self.id, self.use = type, name, id, use


class CyclesPrefs:
    """Cycles add-on preferences: refresh_devices() (3.0+) or only get_devices() (2.9x)."""

    def __init__(self, found, types_built, legacy=False):
        self._found = found
        self._types = {"NONE", *types_built}
        self._type = "NONE"
        self.devices = []
        self.refreshed = 0
        if not legacy:
            self.refresh_devices = self._refresh

    def _refresh(self):
        self.refreshed += 1
        for t, n, i in self._found:
            if not any(d.type == t and d.id == i for d in self.devices):
                self.devices.append(PrefDevice(t, n, i, use=(t != "CPU")))

    def get_devices(self, compute_device_type=""):
        self._refresh()
        return None

    @property
    def compute_device_type(self):
        return self._type

    @compute_device_type.setter
    def compute_device_type(self, v):
        if v not in self._types:
            raise TypeError(
                f'bpy_struct: item.attr = val: enum "{v}" not found in {sorted(self._types)}'
            )
        self._type = v


def enum_rna(**props):
    """bpy.types.X with bl_rna.properties[prop].enum_items identifiers."""
    return SimpleNamespace(
        bl_rna=SimpleNamespace(
            properties={
                k: SimpleNamespace(enum_items=[SimpleNamespace(identifier=i) for i in v])
                for k, v in props.items()
            }
        )
    )


CPU_EPYC = ("CPU", "AMD EPYC", "CPU")
A10S = [
    ("CUDA", "NVIDIA A10", "CUDA_0"),
    ("CUDA", "NVIDIA A10", "CUDA_1"),
    ("OPTIX", "NVIDIA A10", "OPTIX_0"),
    ("OPTIX", "NVIDIA A10", "OPTIX_1"),
]


def make_bpy(
    version=(3, 4, 1),
    ops=(),
    found=(CPU_EPYC,),
    types_built=("CUDA", "HIP"),
    legacy_prefs=False,
    op_result=frozenset({"FINISHED"}),
    engines=("BLENDER_EEVEE",),
):
    v4 = tuple(version) >= (4, 0, 0)
    bpy = types.ModuleType("bpy")
    bpy.app = SimpleNamespace(
        version=tuple(version),
        version_string=".".join(map(str, version)) + (" LTS" if v4 else ""),
        build_options=SimpleNamespace(openimagedenoise=True),
    )
    bpy.ops = Ops(ops, set(op_result))
    t = SimpleNamespace(
        RenderSettings=enum_rna(engine=list(engines)),
        ColorManagedInputColorspaceSettings=enum_rna(
            name=(
                ["Linear Rec.709", "sRGB", "Non-Color"] if v4 else ["Linear", "sRGB", "Non-Color"]
            )
        ),
        ShaderNodeTexImage=enum_rna(
            extension=["REPEAT", "EXTEND", "CLIP"]
            + (["MIRROR"] if tuple(version) >= (3, 5, 0) else [])
        ),
        ShaderNodeSeparateColor=object(),
    )
    if v4:
        t.ShaderNodeMix = object()
    bpy.types = t
    prefs = CyclesPrefs(list(found), types_built, legacy_prefs)
    bpy.context = SimpleNamespace(
        preferences=SimpleNamespace(addons={"cycles": SimpleNamespace(preferences=prefs)}),
        scene=fake_scene(),
    )
    bpy.utils = SimpleNamespace(system_resource=lambda kind, path="": "")
    bpy.data = SimpleNamespace(orphans_purge=lambda **kw: 3)
    return bpy


def fake_scene():
    return SimpleNamespace(cycles=SimpleNamespace(device="CPU"))


class CompatCase(unittest.TestCase):
    def load(self, **kw):
        fake = make_bpy(**kw)
        self._saved = sys.modules.get("bpy")
        sys.modules["bpy"] = fake
        sys.modules.pop("synthline_bpy.compat", None)
        self.compat = importlib.import_module("synthline_bpy.compat")
        self.bpy = fake
        return self.compat

    def tearDown(self):
        sys.modules.pop("synthline_bpy.compat", None)
        if getattr(self, "_saved", None) is not None:
            sys.modules["bpy"] = self._saved
        else:
            sys.modules.pop("bpy", None)


# ------------------------------------------------------------------------------ tests

OPS_34 = [
    "import_scene.gltf",
    "import_scene.fbx",
    "import_scene.obj",
    "wm.obj_import",
    "import_mesh.stl",
    "import_mesh.ply",
    "wm.stl_import",
]
OPS_42 = [
    "import_scene.gltf",
    "import_scene.fbx",
    "wm.obj_import",
    "wm.stl_import",
    "wm.ply_import",
]


class VersionTest(CompatCase):
    def test_version(self):
        self.assertEqual(self.load(version=(3, 4, 1)).version_string(), "3.4.1")
        c = self.load(version=(4, 2, 3))
        self.assertEqual(c.version_string(), "4.2.3")
        self.assertEqual(c.VERSION, (4, 2, 3))


class EngineTest(CompatCase):
    def test_engine_ids_by_version(self):
        c = self.load()
        table = {
            (3, 4, 1): "BLENDER_EEVEE",
            (3, 6, 5): "BLENDER_EEVEE",
            (4, 0, 2): "BLENDER_EEVEE",
            (4, 1, 1): "BLENDER_EEVEE",
            (4, 2, 0): "BLENDER_EEVEE_NEXT",
            (4, 5, 3): "BLENDER_EEVEE_NEXT",
            (5, 0, 0): "BLENDER_EEVEE",
        }
        for v, want in table.items():
            self.assertEqual(c.engine_identifier("eevee", v), want, v)
            self.assertEqual(c.engine_identifier("cycles", v), "CYCLES")
        with self.assertRaises(ValueError):
            c.engine_identifier("workbench", (3, 4, 1))

    def test_engine_id_on_3_4_and_4_2(self):
        self.assertEqual(self.load(version=(3, 4, 1)).engine_id("eevee"), "BLENDER_EEVEE")
        c = self.load(version=(4, 2, 1), engines=("BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH"))
        self.assertEqual(c.engine_id("eevee"), "BLENDER_EEVEE_NEXT")
        self.assertEqual(c.engine_id("cycles"), "CYCLES")

    def test_engine_id_trusts_the_build_enum(self):
        # A 4.1 daily build that already had EEVEE Next: its enum wins over the version rule.
        c = self.load(version=(4, 1, 0), engines=("BLENDER_EEVEE_NEXT",))
        self.assertEqual(c.engine_id("eevee"), "BLENDER_EEVEE_NEXT")
        # Enum empty (filled only in a UI context): the version rule.
        c = self.load(version=(4, 5, 0), engines=())
        self.assertEqual(c.engine_id("eevee"), "BLENDER_EEVEE_NEXT")


class PrincipledTest(CompatCase):
    def test_names_by_version(self):
        c = self.load()
        self.assertEqual(
            c.principled_names("Specular", (3, 4, 1)), ("Specular", "Specular IOR Level")
        )
        self.assertEqual(
            c.principled_names("Specular", (4, 2, 0)), ("Specular IOR Level", "Specular")
        )
        self.assertEqual(c.principled_names("Base Color", (4, 5, 0)), ("Base Color",))
        for old, new in (
            ("Subsurface", "Subsurface Weight"),
            ("Emission", "Emission Color"),
            ("Clearcoat", "Coat Weight"),
            ("Clearcoat Roughness", "Coat Roughness"),
            ("Sheen", "Sheen Weight"),
            ("Transmission", "Transmission Weight"),
            ("Clearcoat Normal", "Coat Normal"),
        ):
            self.assertEqual(c.principled_names(old, (4, 2, 0))[0], new)
            self.assertEqual(c.principled_names(old, (3, 4, 1))[0], old)

    def test_3_4_node(self):
        c = self.load(version=(3, 4, 1))
        node = Node("ShaderNodeBsdfPrincipled", [Sock(n) for n in PRINCIPLED_3])
        self.assertIs(c.principled_input(node, "Specular"), node.inputs["Specular"])
        self.assertIs(c.principled_input(node, "Emission"), node.inputs["Emission"])
        c.set_principled(node, Base_Color=(1, 0, 0, 1), Specular=0.35, Subsurface=0.1)
        self.assertEqual(node.inputs["Base Color"].default_value, (1, 0, 0, 1))
        self.assertEqual(node.inputs["Specular"].default_value, 0.35)
        self.assertEqual(node.inputs["Subsurface"].default_value, 0.1)

    def test_4_x_node(self):
        for v in ((4, 2, 0), (4, 5, 2)):
            c = self.load(version=v)
            node = Node("ShaderNodeBsdfPrincipled", [Sock(n) for n in PRINCIPLED_4])
            c.set_principled(
                node,
                Specular=0.35,
                Metallic=0.0,
                Emission=(0, 0, 0, 1),
                Subsurface=0.2,
                Clearcoat=0.5,
                Emission_Strength=1.0,
            )
            self.assertEqual(node.inputs["Specular IOR Level"].default_value, 0.35)
            self.assertEqual(node.inputs["Emission Color"].default_value, (0, 0, 0, 1))
            self.assertEqual(node.inputs["Subsurface Weight"].default_value, 0.2)
            self.assertEqual(node.inputs["Coat Weight"].default_value, 0.5)
            self.assertEqual(node.inputs["Metallic"].default_value, 0.0)
            self.assertEqual(node.inputs["Emission Strength"].default_value, 1.0)
            with self.assertRaisesRegex(KeyError, "Subsurface Color"):
                c.principled_input(node, "Subsurface Color")  # gone in 4.0: no mapping


class ImporterTest(CompatCase):
    def test_order_is_pure(self):
        c = self.load()
        self.assertEqual(
            c.importer_order("stl", (3, 4, 1)), [("import_mesh", "stl"), ("wm", "stl_import")]
        )
        self.assertEqual(
            c.importer_order("ply", (4, 2, 0)), [("wm", "ply_import"), ("import_mesh", "ply")]
        )
        self.assertEqual(c.importer_order("obj", (3, 4, 1))[0], ("wm", "obj_import"))
        self.assertEqual(c.importer_order("glb", (4, 5, 0)), [("import_scene", "gltf")])
        with self.assertRaises(ValueError):
            c.importer_order("3ds", (3, 4, 1))

    def test_3_4(self):
        c = self.load(version=(3, 4, 1), ops=OPS_34)
        got = {f: c.model_importer(f) for f in ("glb", "gltf", "fbx", "obj", "stl", "ply")}
        self.assertEqual(
            got,
            {
                "glb": "import_scene.gltf",
                "gltf": "import_scene.gltf",
                "fbx": "import_scene.fbx",
                "obj": "wm.obj_import",
                "stl": "import_mesh.stl",
                "ply": "import_mesh.ply",
            },
        )

    def test_3_2_without_the_cpp_obj_importer(self):
        c = self.load(version=(3, 2, 0), ops=["import_scene.obj", "import_mesh.stl"])
        self.assertEqual(c.model_importer("obj"), "import_scene.obj")

    def test_4_x(self):
        for v in ((4, 2, 0), (4, 5, 0)):
            c = self.load(version=v, ops=OPS_42)
            self.assertEqual(c.model_importer("obj"), "wm.obj_import")
            self.assertEqual(c.model_importer("stl"), "wm.stl_import")
            self.assertEqual(c.model_importer("ply"), "wm.ply_import")
            self.assertEqual(c.model_importer("fbx"), "import_scene.fbx")

    def test_missing_importer(self):
        c = self.load(version=(4, 2, 0), ops=["wm.obj_import"])
        with self.assertRaisesRegex(
            ValueError, r"this Blender \(4\.2\.0\) has no importer for 'glb'"
        ):
            c.model_importer("glb")

    def test_import_model_runs_the_operator(self):
        c = self.load(version=(4, 2, 0), ops=OPS_42)
        c.import_model("/lib/a/model.stl", "stl")
        self.assertEqual(self.bpy.ops.calls, [("wm.stl_import", {"filepath": "/lib/a/model.stl"})])
        c = self.load(version=(3, 4, 1), ops=OPS_34, op_result={"CANCELLED"})
        with self.assertRaisesRegex(RuntimeError, r"import_mesh\.ply returned \['CANCELLED'\]"):
            c.import_model("/lib/b/model.ply", "ply")


ON_CPU = UseDevice("cpu", None, "NONE", (), "cpu")


class CyclesDeviceTest(CompatCase):
    """What the driver decided (packages/blender/src/devices.ts), applied to the preferences."""

    def test_3_4_cpu_only(self):
        c = self.load(version=(3, 4, 1))
        self.assertEqual(c.cycles_devices(), [Device("CPU", "AMD EPYC", "CPU")])
        scene = fake_scene()
        c.apply_cycles_device(scene, ON_CPU)
        self.assertEqual(scene.cycles.device, "CPU")
        self.assertEqual(
            self.bpy.context.preferences.addons["cycles"].preferences.compute_device_type, "NONE"
        )

    def test_4_x_gpu_binds_one_device(self):
        c = self.load(
            version=(4, 2, 0),
            found=[CPU_EPYC] + A10S,
            types_built=("CUDA", "OPTIX", "HIP", "ONEAPI"),
        )
        self.assertEqual(len(c.cycles_devices()), 5)
        scene = fake_scene()
        c.apply_cycles_device(scene, UseDevice("cuda", 1, "CUDA", ("CUDA_1",), "cuda:1 NVIDIA A10"))
        prefs = self.bpy.context.preferences.addons["cycles"].preferences
        self.assertEqual(prefs.compute_device_type, "CUDA")
        self.assertEqual(
            {(d.type, d.id): d.use for d in prefs.devices},
            {
                ("CPU", "CPU"): False,
                ("CUDA", "CUDA_0"): False,
                ("CUDA", "CUDA_1"): True,
                ("OPTIX", "OPTIX_0"): False,
                ("OPTIX", "OPTIX_1"): False,
            },
        )
        self.assertEqual(scene.cycles.device, "GPU")
        # The scene set up afterwards renders on the GPU too.
        later = SimpleNamespace(cycles=SimpleNamespace(device="CPU"))
        c.configure_cycles_fast(later)
        self.assertEqual(later.cycles.device, "GPU")

    def test_every_device_of_a_kind(self):
        c = self.load(version=(4, 5, 0), found=[CPU_EPYC] + A10S, types_built=("CUDA", "OPTIX"))
        c.cycles_devices()
        c.apply_cycles_device(
            fake_scene(),
            UseDevice(
                "optix",
                None,
                "OPTIX",
                ("OPTIX_0", "OPTIX_1"),
                "optix:0 NVIDIA A10, optix:1 NVIDIA A10",
            ),
        )
        prefs = self.bpy.context.preferences.addons["cycles"].preferences
        self.assertEqual(prefs.compute_device_type, "OPTIX")
        self.assertEqual([d.id for d in prefs.devices if d.use], ["OPTIX_0", "OPTIX_1"])

    def test_back_to_cpu_configures_cpu(self):
        c = self.load(version=(4, 2, 0), found=[CPU_EPYC] + A10S, types_built=("CUDA", "OPTIX"))
        c.cycles_devices()
        c.apply_cycles_device(
            fake_scene(), UseDevice("cuda", None, "CUDA", ("CUDA_0", "CUDA_1"), "x")
        )
        scene = fake_scene()
        c.apply_cycles_device(scene, ON_CPU)
        self.assertEqual(scene.cycles.device, "CPU")
        c.configure_cycles_fast(scene)
        self.assertEqual(scene.cycles.device, "CPU")

    def test_legacy_get_devices(self):
        c = self.load(
            version=(2, 93, 0), found=[CPU_EPYC, ("HIP", "Radeon", "HIP_0")], legacy_prefs=True
        )
        self.assertEqual([d.type for d in c.cycles_devices()], ["CPU", "HIP"])

    def test_a_device_blender_did_not_find_fails_and_changes_nothing(self):
        c = self.load(version=(4, 2, 0), found=[CPU_EPYC] + A10S, types_built=("CUDA", "OPTIX"))
        c.cycles_devices()
        prefs = self.bpy.context.preferences.addons["cycles"].preferences
        before = {(d.type, d.id): d.use for d in prefs.devices}
        for use, asked in (
            # An id of no device at all, one of the right id but another type, none at all.
            (UseDevice("cuda", 7, "CUDA", ("CUDA_7",), "cuda:7"), "CUDA CUDA_7"),
            (UseDevice("cuda", 0, "CUDA", ("OPTIX_0",), "cuda:0"), "CUDA OPTIX_0"),
            (
                UseDevice("optix", None, "OPTIX", ("OPTIX_0", "OPTIX_9"), "x"),
                "OPTIX OPTIX_0, OPTIX_9",
            ),
            (UseDevice("hip", None, "HIP", (), "hip"), "HIP no device id"),
        ):
            scene = fake_scene()
            with self.assertRaises(DeviceNotFound) as cm:
                c.apply_cycles_device(scene, use)
            self.assertEqual(
                str(cm.exception),
                f"use_device asks for {asked}, but Blender found: "
                'CPU "AMD EPYC" (CPU), CUDA "NVIDIA A10" (CUDA_0), CUDA "NVIDIA A10" (CUDA_1), '
                'OPTIX "NVIDIA A10" (OPTIX_0), OPTIX "NVIDIA A10" (OPTIX_1) '
                "(the ids to enable must be ones of this process's devices line)",
            )
            self.assertEqual(prefs.compute_device_type, "NONE", use)
            self.assertEqual({(d.type, d.id): d.use for d in prefs.devices}, before, use)
            self.assertEqual(scene.cycles.device, "CPU", use)
            c.configure_cycles_fast(scene)
            self.assertEqual(scene.cycles.device, "CPU", use)

    def test_cpu_on_a_build_without_gpu_backends(self):
        c = self.load(version=(3, 4, 1), types_built=())
        prefs = self.bpy.context.preferences.addons["cycles"].preferences
        prefs._types = set()  # even NONE refused: the CPU choice must not fail on it
        scene = fake_scene()
        c.apply_cycles_device(scene, ON_CPU)
        self.assertEqual(scene.cycles.device, "CPU")


class NodesAndSettingsTest(CompatCase):
    def test_multiply_node(self):
        c = self.load(version=(3, 4, 1))
        tree = Tree()
        node, a, b, out = c.multiply_colour_node(tree)
        self.assertEqual(node.bl_idname, "ShaderNodeMixRGB")
        self.assertEqual((a.name, b.name, out.name), ("Color1", "Color2", "Color"))
        self.assertEqual(node.inputs["Fac"].default_value, 1.0)
        c = self.load(version=(4, 2, 0))
        tree = Tree()
        node, a, b, out = c.multiply_colour_node(tree)
        self.assertEqual(node.bl_idname, "ShaderNodeMix")
        self.assertEqual((node.data_type, node.blend_type), ("RGBA", "MULTIPLY"))
        self.assertEqual(
            (a.identifier, b.identifier, out.identifier), ("A_Color", "B_Color", "Result_Color")
        )

    def test_separate_colour_node(self):
        c = self.load(version=(3, 4, 1))
        self.assertEqual(c.separate_colour_node(Tree()).bl_idname, "ShaderNodeSeparateColor")
        del self.bpy.types.ShaderNodeSeparateColor  # 3.2 and older
        self.assertEqual(c.separate_colour_node(Tree()).bl_idname, "ShaderNodeSeparateRGB")

    def test_colour_spaces_and_extension(self):
        c = self.load(version=(3, 4, 1))
        self.assertEqual((c.linear_colorspace(), c.srgb_colorspace()), ("Linear", "sRGB"))
        self.assertEqual(c.image_extension_mirror(), "REPEAT")
        c = self.load(version=(4, 2, 0))
        self.assertEqual((c.linear_colorspace(), c.srgb_colorspace()), ("Linear Rec.709", "sRGB"))
        self.assertEqual(c.image_extension_mirror(), "MIRROR")

    def test_light_falloff(self):
        c = self.load(version=(3, 4, 1))
        light3 = SimpleNamespace(shadow_soft_size=0.0)
        c.set_light_shadow_radius(light3, 0.1)
        self.assertEqual(light3.shadow_soft_size, 0.1)
        self.assertFalse(hasattr(light3, "use_soft_falloff"))
        c = self.load(version=(4, 2, 0))
        light4 = SimpleNamespace(shadow_soft_size=0.0, use_soft_falloff=True)
        c.set_light_shadow_radius(light4, 0.2)
        self.assertEqual((light4.shadow_soft_size, light4.use_soft_falloff), (0.2, False))

    def test_compositor_tree(self):
        c = self.load(version=(4, 2, 0))
        tree = object()
        scene = SimpleNamespace(use_nodes=False, node_tree=tree)
        self.assertIs(c.compositor_tree(scene), tree)
        self.assertTrue(scene.use_nodes)
        c = self.load(version=(5, 0, 0))
        made = object()
        self.bpy.data.node_groups = SimpleNamespace(new=lambda name, kind: made)
        scene = SimpleNamespace(compositing_node_group=None)
        self.assertIs(c.compositor_tree(scene), made)
        self.assertIs(scene.compositing_node_group, made)

    def test_cycles_settings_across_versions(self):
        c = self.load(version=(3, 4, 1))
        cy34 = SimpleNamespace(device="GPU", use_auto_tile=True)
        c.configure_cycles_fast(SimpleNamespace(cycles=cy34))
        self.assertEqual((cy34.device, cy34.use_auto_tile), ("CPU", False))
        self.assertFalse(hasattr(cy34, "use_light_tree"))  # 3.5+ only: not created on 3.4
        c = self.load(version=(4, 2, 0))
        cy42 = SimpleNamespace(
            device="CPU", use_auto_tile=True, use_light_tree=True, use_guiding=True
        )
        c.configure_cycles_fast(SimpleNamespace(cycles=cy42))
        self.assertEqual((cy42.use_light_tree, cy42.use_guiding), (False, False))

    def test_world_importance_map_and_purge(self):
        c = self.load(version=(4, 2, 0))
        world = SimpleNamespace(
            cycles=SimpleNamespace(sampling_method="AUTOMATIC", sample_map_resolution=1024)
        )
        c.set_world_importance_map(world, 256)
        self.assertEqual(
            (world.cycles.sampling_method, world.cycles.sample_map_resolution), ("MANUAL", 256)
        )
        self.assertEqual(c.purge_orphans(), 3)

    def test_render_layer_outputs(self):
        c = self.load(version=(4, 2, 0))
        rl = Node(
            "CompositorNodeRLayers", outputs=[Sock("Image"), Sock("Object Index"), Sock("Depth")]
        )
        self.assertEqual(c.render_layers_output(rl, "IndexOB").name, "Object Index")
        self.assertEqual(c.render_layers_output(rl, c.depth_socket_name()).name, "Depth")
        with self.assertRaises(KeyError):
            c.render_layers_output(rl, "Normal")


if __name__ == "__main__":
    unittest.main()

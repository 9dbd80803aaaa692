import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stream } from '@synthline/base';
import { builtinCatalog, parseSpec, rangeExtent } from '@synthline/spec';
import { draw, footprintRadius, frameKey, plan, planContext, whiteBalanceGain } from './plan.ts';
import { kelvinToRgb, jitter } from './colour.ts';

const spec = parseSpec({ seed: 42, count: 5000 });

test('a frame plan depends only on the seed and the frame index', () => {
  const forward = [0, 1, 2, 999, 4999].map((i) => plan(spec, i));
  const backward = [4999, 999, 2, 1, 0].map((i) => plan(spec, i)).reverse();
  assert.deepEqual(forward, backward);
  assert.deepEqual(plan(parseSpec({ seed: 42, count: 5000 }), 999), forward[3]);
  assert.notDeepEqual(plan(spec, 1), plan(spec, 2));
  assert.notDeepEqual(plan(parseSpec({ seed: 43, count: 5000 }), 1), plan(spec, 1));
});

test('a different count does not change the frames both specs share', () => {
  assert.deepEqual(plan(parseSpec({ seed: 42, count: 10 }), 7), plan(spec, 7));
});

test('indices outside [0, count) are refused', () => {
  assert.throws(() => plan(spec, 5000), RangeError);
  assert.throws(() => plan(spec, -1), RangeError);
  assert.throws(() => plan(spec, 1.5), RangeError);
});

test('keys are the zero-padded index, without dots', () => {
  assert.equal(frameKey(17), '00000017');
  assert.equal(plan(spec, 17).key, '00000017');
});

test('every drawn value lies in its range', () => {
  const s = parseSpec({
    seed: 7,
    count: 2000,
    camera: { distance_m: [0.3, 0.5], elevation_deg: { choice: [60, 75, 90] }, focal_length_mm: 35 },
    lights: { count: [0, 4], energy_w: [5, 10], area_energy_w: [1, 2] },
    sensor: { blur_sigma_px: [0, 1], exposure_ev: [-1, 1] },
  });
  for (let i = 0; i < s.count; i++) {
    const p = plan(s, i);
    const within = (v: number, r: Parameters<typeof rangeExtent>[0], what: string) => {
      const [lo, hi] = rangeExtent(r);
      assert.ok(v >= lo - 1e-9 && v <= hi + 1e-9, `frame ${i}: ${what}=${v} outside [${lo}, ${hi}]`);
    };
    within(p.camera.distance_m, s.camera.distance_m, 'distance');
    assert.ok([60, 75, 90].includes(p.camera.elevation_deg));
    assert.equal(p.camera.focal_length_mm, 35);
    within(p.lights.length, s.lights.count, 'light count');
    for (const l of p.lights) within(l.energy_w, l.type === 'area' ? s.lights.area_energy_w : s.lights.energy_w, `${l.type} energy`);
    within(p.sensor.blur_sigma_px, s.sensor.blur_sigma_px, 'blur');
    within(p.sensor.exposure_ev, s.sensor.exposure_ev, 'exposure');
    assert.ok(s.world.hdris.includes(p.world.hdri as (typeof s.world.hdris)[number]));
    for (const c of p.product.color.srgb) assert.ok(c >= 0 && c <= 1);
    assert.ok(Number.isInteger(p.render.seed) && p.render.seed >= 0 && p.render.seed < 2 ** 31);
  }
  const counts = new Set(Array.from({ length: 200 }, (_, i) => plan(s, i).lights.length));
  assert.deepEqual([...counts].sort(), [0, 1, 2, 3, 4]);
});

test('products are drawn by weight and colours from their palette', () => {
  const s = parseSpec({
    seed: 3,
    count: 6000,
    products: [
      { asset: 'builtin:iphone-13', colors: ['Blue', 'Green'], weight: 3 },
      { asset: 'builtin:iphone-8', weight: 1 },
    ],
  });
  const n: Record<string, number> = {};
  const colours = new Map<string, Set<string>>();
  for (let i = 0; i < s.count; i++) {
    const p = plan(s, i);
    n[p.product.model] = (n[p.product.model] ?? 0) + 1;
    if (!colours.has(p.product.model)) colours.set(p.product.model, new Set());
    colours.get(p.product.model)?.add(p.product.color.name);
  }
  const share = (n['iphone-13'] ?? 0) / s.count;
  assert.ok(Math.abs(share - 0.75) < 0.03, `iphone-13 share ${share}, expected 0.75`);
  assert.deepEqual([...(colours.get('iphone-13') ?? [])].sort(), ['Blue', 'Green']);
  const palette8 = (builtinCatalog().models.find((m) => m.id === 'iphone-8')?.colors ?? []).map((c) => c.name).sort();
  assert.deepEqual([...(colours.get('iphone-8') ?? [])].sort(), palette8);
});

test('face_down_probability decides which side is up', () => {
  const up = (p: number) =>
    new Set(Array.from({ length: 50 }, (_, i) => plan(parseSpec({ product: { face_down_probability: p } }), i).product.side_up));
  assert.deepEqual([...up(0)], ['front']);
  assert.deepEqual([...up(1)], ['back']);
  assert.equal(up(0.5).size, 2);
});

test('colour jitter off keeps the catalog colour', () => {
  const s = parseSpec({ product: { color_jitter: { hue: 0, saturation_scale: 1, value_scale: 1 } } });
  for (let i = 0; i < 20; i++) {
    const c = plan(s, i).product.color;
    c.srgb.forEach((v, k) => {
      assert.ok(Math.abs(v - (c.nominal_srgb[k] ?? -1)) < 1e-5);
    });
  }
});

test('colour maths: black body colours and jitter', () => {
  const warm = kelvinToRgb(2000);
  const daylight = kelvinToRgb(6600);
  assert.ok(warm[0] === 1 && warm[2] < 0.3, `2000 K is orange: ${warm}`);
  assert.ok(
    daylight.every((c) => c > 0.95),
    `6600 K is near white: ${daylight}`,
  );
  assert.ok(kelvinToRgb(12000)[2] === 1 && kelvinToRgb(12000)[0] < 0.9);
  assert.deepEqual(
    jitter([0.2, 0.4, 0.6], 0, 1, 1).map((v) => v.toFixed(6)),
    ['0.200000', '0.400000', '0.600000'],
  );
  const darker = jitter([0.2, 0.4, 0.6], 0, 1, 0.5);
  assert.ok(Math.abs((darker[2] ?? 0) - 0.3) < 1e-9);
});

test('held-out conditions are never drawn, and holding out everything is refused', () => {
  const s = parseSpec({
    count: 600,
    products: [{ asset: 'builtin:iphone-13' }],
    world: { hdris: ['studio', 'night', 'city'] },
    camera: { elevation_deg: [40, 90] },
    split: { name: 'train', hold_out: { hdris: ['night'], colors: ['Blue'], camera: { elevation_deg: [60, 75] } } },
  });
  const ctx = planContext(s);
  for (let i = 0; i < s.count; i++) {
    const p = plan(s, i, ctx);
    assert.notEqual(p.world.hdri, 'night');
    assert.notEqual(p.product.color.name, 'Blue');
    const e = p.camera.elevation_deg;
    assert.ok(e < 60 || e > 75, `elevation ${e} is held out`);
  }
  assert.throws(
    () => planContext(parseSpec({ world: { hdris: ['night'] }, split: { hold_out: { hdris: ['night'] } } })),
    (e: unknown) => e instanceof Error && /world\.hdris: every HDRI is held out/.test(e.message),
  );
  assert.throws(
    () => planContext(parseSpec({ camera: { elevation_deg: [60, 70] }, split: { hold_out: { camera: { elevation_deg: [50, 80] } } } })),
    /holds out all of camera.elevation_deg/,
  );
});

test('draw excludes a held-out interval from ranges and choice lists', () => {
  const r = new Stream(9, 9, 'x');
  for (let i = 0; i < 500; i++) {
    const v = draw(r, [0, 10], [2, 9]);
    assert.ok((v >= 0 && v <= 2) || (v >= 9 && v <= 10), String(v));
    assert.ok([1, 5].includes(draw(r, { choice: [1, 3, 5] }, [2, 4])));
  }
});

test('the camera-line stages: absent from plans of specs that leave them off, drawn on their own stream when on', () => {
  const base = parseSpec({ seed: 3, count: 5 });
  const on = parseSpec({ seed: 3, count: 5, sensor: { vignette: [0.2, 0.4], white_balance_mired: 20, jpeg_quality: [40, 60] } });
  for (let i = 0; i < 5; i++) {
    const a = plan(base, i);
    const b = plan(on, i);
    assert.equal('vignette' in a.sensor || 'white_balance_gain' in a.sensor || 'jpeg_quality' in a.sensor, false);
    // Everything else is the same plan: the new stages took nothing from the other streams.
    const { vignette, white_balance_gain, jpeg_quality, ...rest } = b.sensor;
    assert.deepEqual({ ...b, sensor: rest }, a);
    assert.ok(vignette !== undefined && vignette >= 0.2 && vignette <= 0.4);
    assert.ok(jpeg_quality !== undefined && jpeg_quality >= 40 && jpeg_quality <= 60);
    assert.ok(white_balance_gain && white_balance_gain[0] > 1 && white_balance_gain[1] === 1 && white_balance_gain[2] < 1, 'warmer');
  }
  assert.deepEqual(whiteBalanceGain(0), [1, 1, 1]);
});

test('without layout, or with its defaults, plans are what they always were', () => {
  for (const seed of [0, 42]) {
    const plain = parseSpec({ seed, count: 200 });
    const withLayout = parseSpec({ seed, count: 200, layout: {} });
    const one = parseSpec({ seed, count: 200, layout: { products_per_frame: 1 } });
    assert.equal('layout' in plain, false, 'the parsed spec gains no layout section');
    for (let i = 0; i < 200; i++) {
      const p = plan(plain, i);
      assert.equal('others' in p, false);
      assert.deepEqual(plan(withLayout, i), p);
      assert.deepEqual(plan(one, i), p);
    }
  }
});

test('several products: the first is unchanged, the others keep their gap and ids', () => {
  const gap = 0.02;
  const multi = parseSpec({ seed: 9, count: 300, layout: { products_per_frame: [2, 6], min_gap_m: gap } });
  const single = parseSpec({ seed: 9, count: 300 });
  const ctx = planContext(multi);
  const radius = new Map(ctx.products.map((p) => [p.asset, footprintRadius(p)]));
  let placed = 0;
  for (let i = 0; i < 300; i++) {
    const p = plan(multi, i, ctx);
    const s = plan(single, i);
    assert.deepEqual(p.product, s.product, 'instance 1 is the product a single-product spec gets');
    const others = p.others ?? [];
    placed += others.length;
    assert.ok(others.length <= 5);
    assert.deepEqual(
      others.map((o) => o.id),
      others.map((_, j) => j + 2),
    );
    const all = [p.product, ...others];
    for (let a = 0; a < all.length; a++) {
      for (let b = a + 1; b < all.length; b++) {
        const [pa, pb] = [all[a], all[b]] as [(typeof all)[number], (typeof all)[number]];
        const d = Math.hypot(pa.offset_m[0] - pb.offset_m[0], pa.offset_m[1] - pb.offset_m[1]);
        assert.ok(d >= (radius.get(pa.asset) ?? 0) + (radius.get(pb.asset) ?? 0) + gap - 1e-9, `frame ${i}: ${d}`);
      }
    }
  }
  assert.ok(placed > 300, `most further products are placed (${placed})`);
  // Deterministic: the same frame twice gives the same plan.
  assert.deepEqual(plan(multi, 17, ctx), plan(multi, 17));
});

test('a pile: the same products as scatter, dropped around the first from heights that clear each other', () => {
  const pile = parseSpec({ seed: 9, count: 200, layout: { mode: 'pile', products_per_frame: [1, 6] } });
  const scatter = parseSpec({ seed: 9, count: 200, layout: { products_per_frame: [1, 6] } });
  const ctx = planContext(pile);
  const radius = new Map(ctx.products.map((p) => [p.asset, footprintRadius(p) + 0.01]));
  let piles = 0;
  for (let i = 0; i < 200; i++) {
    const p = plan(pile, i, ctx);
    const s = plan(scatter, i);
    assert.deepEqual(p.product, s.product, 'instance 1 is the same');
    // The same products, in the same order; only their places differ.
    assert.deepEqual(
      (p.others ?? []).map((o) => [o.id, o.asset, o.color, o.side_up, o.yaw_deg]),
      (s.others ?? []).slice(0, (p.others ?? []).length).map((o) => [o.id, o.asset, o.color, o.side_up, o.yaw_deg]),
    );
    assert.equal('pile' in s, false, 'scatter plans have no pile');
    if (!p.others) {
      assert.equal('pile' in p, false, 'a single product is not a pile');
      continue;
    }
    piles++;
    const pl = p.pile;
    assert.ok(pl);
    const all = [p.product, ...p.others];
    assert.deepEqual(
      pl.drops.map((d) => d.id),
      all.map((_, j) => j + 1),
    );
    const maxR = Math.max(...all.map((q) => (radius.get(q.asset) ?? 0) - 0.01));
    for (const o of p.others)
      for (const k of [0, 1]) assert.ok(Math.abs((o.offset_m[k] ?? 0) - (p.product.offset_m[k] ?? 0)) <= maxR / 2 + 1e-6);
    for (let a = 0; a < all.length; a++) {
      const da = pl.drops[a];
      const pa = all[a];
      assert.ok(da && pa);
      assert.ok(da.tilt_deg.every((t) => Math.abs(t) <= 25));
      assert.ok(da.height_m >= (radius.get(pa.asset) ?? 0), `frame ${i}: clears the belt`);
      for (let b = 0; b < a; b++) {
        const db = pl.drops[b];
        const pb = all[b];
        assert.ok(db && pb);
        const d = Math.hypot(pa.offset_m[0] - pb.offset_m[0], pa.offset_m[1] - pb.offset_m[1], da.height_m - db.height_m);
        assert.ok(d >= (radius.get(pa.asset) ?? 0) + (radius.get(pb.asset) ?? 0) - 1e-5, `frame ${i}: drops ${a + 1} and ${b + 1} apart`);
      }
    }
  }
  assert.ok(piles > 100, `most frames are piles (${piles})`);
  assert.deepEqual(plan(pile, 5, ctx), plan(pile, 5));
});

test("every phone of a frame has its own condition, drawn on its instance's streams; the first's is as alone", () => {
  const condition = { case_probability: 0.5, crack_probability: 0.5, sticker_probability: 0.5 };
  const multi = parseSpec({ seed: 5, count: 200, layout: { products_per_frame: 3 }, product: { condition } });
  const bare = parseSpec({ seed: 5, count: 200, layout: { products_per_frame: 3 } });
  const single = parseSpec({ seed: 5, count: 200, product: { condition } });
  let worn = 0;
  let differ = 0;
  for (let i = 0; i < 200; i++) {
    const p = plan(multi, i);
    assert.deepEqual(p.product, plan(single, i).product, 'instance 1 as in a single-product spec');
    const others = p.others ?? [];
    // Without the condition the others are the same products in the same places.
    assert.deepEqual(
      others.map(({ condition: _c, ...o }) => o),
      plan(bare, i).others,
    );
    worn += others.filter((o) => o.condition).length;
    if (others.length === 2 && JSON.stringify(others[0]?.condition) !== JSON.stringify(others[1]?.condition)) differ++;
  }
  assert.ok(worn > 250, `most further phones have some condition (${worn} of 400)`);
  assert.ok(differ > 150, `each phone draws its own (${differ} frames differ)`);
});

test('a wallet case: only when named, and closed over the screen (no lit or cracked screen under it)', () => {
  const all = parseSpec({ seed: 1, count: 300, product: { condition: { case_probability: 1 } } });
  assert.deepEqual(all.product.condition?.case_kinds, ['silicone', 'clear', 'leather'], 'the default kinds are those before wallets');
  const wallets = parseSpec({
    seed: 1,
    count: 300,
    product: {
      condition: { case_probability: 1, case_kinds: ['wallet'], screen_on_probability: 1, crack_probability: 1, sticker_probability: 1 },
    },
  });
  const open = parseSpec({
    seed: 1,
    count: 300,
    product: {
      condition: { case_probability: 1, case_kinds: ['leather'], screen_on_probability: 1, crack_probability: 1, sticker_probability: 1 },
    },
  });
  for (let i = 0; i < 300; i++) {
    assert.notEqual(plan(all, i).product.condition?.case?.kind, 'wallet');
    const w = plan(wallets, i).product.condition;
    const o = plan(open, i).product.condition;
    assert.equal(w?.case?.kind, 'wallet');
    assert.equal(w?.screen, undefined);
    assert.equal(w?.crack, undefined);
    assert.ok(o?.screen && o.crack, 'an open case leaves them');
    // The rest of the wear is what it is with any other case.
    assert.deepEqual(w?.sticker, o?.sticker);
  }
});

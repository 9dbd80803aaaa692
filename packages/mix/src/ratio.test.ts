import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MixError } from './errors.ts';
import { allocate, parseRatio } from './ratio.ts';

test('parseRatio takes R:S with positive integers and refuses anything else', () => {
  assert.deepEqual(parseRatio('1:5'), { real: 1, synthetic: 5 });
  assert.deepEqual(parseRatio(' 2 : 7 '), { real: 2, synthetic: 7 });
  for (const bad of ['1/5', '0:5', '1:0', '1.5:3', '-1:5', '', '1:5:2', 'a:b', '1:10000001']) {
    assert.throws(
      () => parseRatio(bad),
      (e: unknown) => e instanceof MixError && e.code === 'BAD_OPTION' && /--ratio/.test(e.message),
      bad,
    );
  }
});

test('at 1:5 each class takes five synthetic samples per real image, and so does the whole', () => {
  const a = allocate(
    [
      { name: 'a', real: 3, synthetic: 40 },
      { name: 'b', real: 2, synthetic: 10 },
    ],
    { real: 1, synthetic: 5 },
    false,
  );
  assert.deepEqual(
    a.classes.map((c) => [c.class, c.real_used, c.synthetic_used]),
    [
      ['a', 3, 15],
      ['b', 2, 10],
    ],
  );
  assert.deepEqual(a.achieved, { real: 5, synthetic: 25, synthetic_per_real: 5 });
  assert.equal(a.exact, true);
  assert.deepEqual([a.shortfalls, a.adjustments, a.excluded], [[], [], []]);
});

test('a share that is not a whole number is rounded down and reported', () => {
  const a = allocate([{ name: 'a', real: 3, synthetic: 100 }], { real: 2, synthetic: 3 }, false);
  assert.equal(a.classes[0]?.synthetic_used, 4); // 3 * 3 / 2 = 4.5
  assert.equal(a.classes[0]?.rounded, true);
  assert.equal(a.exact, false);
  assert.deepEqual(
    a.adjustments.map((x) => x.kind),
    ['synthetic_rounded_down'],
  );
  assert.match(a.adjustments[0]?.message ?? '', /4\.50 synthetic; using 4/);
});

test('a shortfall lists need and have; best effort lowers that class only, keeping the ratio', () => {
  const supply = [
    { name: 'short', real: 4, synthetic: 13 },
    { name: 'fine', real: 2, synthetic: 30 },
  ];
  const strict = allocate(supply, { real: 1, synthetic: 5 }, false);
  assert.deepEqual(strict.shortfalls, [{ class: 'short', real: 4, synthetic_needed: 20, synthetic_available: 13, real_possible: 2 }]);
  assert.deepEqual(
    strict.classes.map((c) => c.class),
    ['fine'],
  );

  const best = allocate(supply, { real: 1, synthetic: 5 }, true);
  assert.deepEqual(
    best.classes.map((c) => [c.class, c.real_used, c.synthetic_used, c.reduced]),
    [
      ['short', 2, 10, true],
      ['fine', 2, 10, false],
    ],
  );
  assert.equal(best.exact, true);
  assert.deepEqual(
    best.adjustments.map((x) => [x.class, x.kind]),
    [['short', 'real_reduced']],
  );
  assert.match(best.adjustments[0]?.message ?? '', /real 4 -> 2 .*need 20 synthetic.*13 available/);
});

test('classes without real images, or without enough synthetic for one, are left out and reported', () => {
  const a = allocate(
    [
      { name: 'unseen', real: 0, synthetic: 50 },
      { name: 'tiny', real: 3, synthetic: 4 },
      { name: 'ok', real: 1, synthetic: 5 },
    ],
    { real: 1, synthetic: 5 },
    true,
  );
  assert.deepEqual(
    a.classes.map((c) => c.class),
    ['ok'],
  );
  assert.deepEqual(
    a.excluded.map((x) => [x.name, x.reason]),
    [
      ['unseen', 'no_real_images'],
      ['tiny', 'too_few_synthetic'],
    ],
  );
  assert.deepEqual(
    a.adjustments.map((x) => [x.class, x.kind]),
    [['tiny', 'real_reduced']],
  );
});

test('ratios with R > 1 hold exactly per class whenever the arithmetic allows', () => {
  for (let real = 1; real <= 30; real++) {
    for (let synthetic = 0; synthetic <= 60; synthetic++) {
      const a = allocate([{ name: 'c', real, synthetic }], { real: 3, synthetic: 7 }, true);
      const c = a.classes[0];
      if (!c) continue;
      assert.ok(c.synthetic_used <= synthetic, 'never more synthetic than available');
      assert.ok(c.real_used <= real);
      assert.equal(c.synthetic_used, Math.floor((c.real_used * 7) / 3));
      assert.equal(c.rounded, (c.real_used * 7) % 3 !== 0);
    }
  }
});

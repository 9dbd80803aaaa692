/** Colour maths for the planner; all colours are sRGB floats in [0, 1]. */
export type Rgb = [number, number, number];

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export function rgbToHsv([r, g, b]: Rgb): Rgb {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h /= 6;
    if (h < 0) h += 1;
  }
  return [h, max === 0 ? 0 : d / max, max];
}

export function hsvToRgb([h, s, v]: Rgb): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/** Shifts hue (turns) and scales saturation and value, clamped to the gamut. */
export function jitter(rgb: Rgb, hue: number, satScale: number, valScale: number): Rgb {
  const [h, s, v] = rgbToHsv(rgb);
  return hsvToRgb([(((h + hue) % 1) + 1) % 1, clamp01(s * satScale), clamp01(v * valScale)]);
}

/**
 * Colour of a black body at `kelvin`, normalised to a maximum of 1
 * (Tanner Helland's fit of the CIE 1964 data, good to a few percent from 1000 K to 40000 K).
 */
export function kelvinToRgb(kelvin: number): Rgb {
  const t = kelvin / 100;
  const r = t <= 66 ? 255 : 329.698727446 * (t - 60) ** -0.1332047592;
  const g = t <= 66 ? 99.4708025861 * Math.log(t) - 161.1195681661 : 288.1221695283 * (t - 60) ** -0.0755148492;
  const b = t >= 66 ? 255 : t <= 19 ? 0 : 138.5177312231 * Math.log(t - 10) - 305.0447927307;
  const rgb: Rgb = [clamp01(r / 255), clamp01(g / 255), clamp01(b / 255)];
  const m = Math.max(...rgb);
  return [rgb[0] / m, rgb[1] / m, rgb[2] / m];
}

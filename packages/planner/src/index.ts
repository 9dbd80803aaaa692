export { plan, frameKey, draw } from './plan.ts';
export { Stream } from './random.ts';
export { jitter, kelvinToRgb, rgbToHsv, hsvToRgb, type Rgb } from './colour.ts';

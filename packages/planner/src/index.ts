export { plan, planContext, frameKey, draw, type PlanContext } from './plan.ts';
export { jitter, kelvinToRgb, rgbToHsv, hsvToRgb, type Rgb } from './colour.ts';

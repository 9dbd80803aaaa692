export { applySensor, decodeRgb, encode, type RawImage } from './effects.ts';

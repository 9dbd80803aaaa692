export { applySensor, decodeRgb, encode, IMAGE_EXT, type RawImage, type ImageFormat } from './effects.ts';

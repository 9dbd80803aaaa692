export { applySensor, decodeRgb, encode, type RawImage } from './effects.ts';
export { ImageDecodeError, finishImage, type FinishJob, type Finished } from './finish.ts';
export { SensorPool, sensorPool } from './pool.ts';

// The entry of a SensorPool thread: TypeScript runs through tsx's loader, registered per thread.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');

export { AssetLibrary, ScanEntry, ScanFile, SCAN_FILE, type ProductFolder } from './library.ts';
export { scanLibrary } from './scan.ts';

export { AssetLibrary, ScanEntry, ScanFile, SCAN_FILE, THUMBNAILS_DIR, type ProductFolder } from './library.ts';
export { scanLibrary } from './scan.ts';

import { open, type FileHandle } from 'node:fs/promises';

/**
 * Random access into tar shards. A mix takes samples from many shards in a shuffled order, so
 * instead of holding every chosen sample in memory it records where each member's bytes lie
 * and reads them when the sample is written.
 */

/** Where one member's bytes lie in its tar file. */
export interface IndexedMember {
  ext: string;
  offset: number;
  size: number;
}

/** The members sharing a key, consecutive in the tar file (as WebDataset groups them). */
export interface IndexedSample {
  key: string;
  members: IndexedMember[];
}

const BLOCK = 512;

/** WebDataset's split of a member name: the key runs to the first dot of the file name. */
const KEY_EXT = /^((?:.*\/|)[^.]+)\.([^/]*)$/;

function cString(buf: Buffer, start: number, end: number): string {
  const zero = buf.indexOf(0, start);
  return buf.toString('utf8', start, zero >= start && zero < end ? zero : end);
}

function octal(buf: Buffer, start: number, end: number, what: string, path: string): number {
  // GNU base-256 for sizes of 8 GiB and more: high bit set, big-endian after it.
  if ((buf[start] ?? 0) & 0x80) {
    let n = (buf[start] ?? 0) & 0x7f;
    for (let i = start + 1; i < end; i++) n = n * 256 + (buf[i] ?? 0);
    return n;
  }
  const text = cString(buf, start, end).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`${path}: tar header has a bad ${what} field "${text}"`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer, path: string): boolean {
  const stored = octal(header, 148, 156, 'checksum', path);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === stored;
}

/** `len key=value\n` records of a pax extended header. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.toString('utf8', at, space));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

/**
 * Lists the regular files of a tar file (ustar, pax and GNU long names) with their offsets,
 * grouped into samples of consecutive members sharing a key. Directories, links and devices are
 * skipped; a leading `./` is dropped from names. A truncated file or a damaged header is an error.
 */
export async function indexTar(path: string): Promise<IndexedSample[]> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const header = Buffer.alloc(BLOCK);
    const samples: IndexedSample[] = [];
    let pos = 0;
    let longName: string | undefined;
    let paxPath: string | undefined;
    let paxSize: number | undefined;
    for (;;) {
      const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
      if (bytesRead === 0) break; // no end-of-archive blocks: tolerated, as tar does
      if (bytesRead < BLOCK) throw new Error(`${path}: truncated tar header at byte ${pos}`);
      if (header.every((b) => b === 0)) break;
      if (!checksumOk(header, path)) throw new Error(`${path}: damaged tar header at byte ${pos} (checksum mismatch)`);
      const type = String.fromCharCode(header[156] ?? 0);
      const dataSize = paxSize ?? octal(header, 124, 136, 'size', path);
      const dataAt = pos + BLOCK;
      if (dataAt + dataSize > size) throw new Error(`${path}: truncated tar: member at byte ${pos} runs past the end`);
      const next = dataAt + Math.ceil(dataSize / BLOCK) * BLOCK;
      const readData = async () => {
        const buf = Buffer.alloc(dataSize);
        await fh.read(buf, 0, dataSize, dataAt);
        return buf;
      };
      if (type === 'x') {
        const rec = paxRecords(await readData());
        paxPath = rec.get('path') ?? paxPath;
        const s = rec.get('size');
        if (s !== undefined) paxSize = Number(s);
        pos = next;
        continue;
      }
      if (type === 'L') {
        longName = cString(await readData(), 0, dataSize);
        pos = next;
        continue;
      }
      const ustar = header.toString('latin1', 257, 263) === 'ustar\0';
      const prefix = ustar ? cString(header, 345, 500) : '';
      const shortName = cString(header, 0, 100);
      let name = paxPath ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName);
      longName = paxPath = paxSize = undefined;
      pos = next;
      if (!(type === '0' || type === '\0' || type === '7')) continue;
      while (name.startsWith('./')) name = name.slice(2);
      const m = KEY_EXT.exec(name);
      if (!m) throw new Error(`${path}: member "${name}" has no "<key>.<ext>" name`);
      const key = m[1] as string;
      const member = { ext: m[2] as string, offset: dataAt, size: dataSize };
      const last = samples[samples.length - 1];
      if (last && last.key === key) last.members.push(member);
      else samples.push({ key, members: [member] });
    }
    return samples;
  } finally {
    await fh.close();
  }
}

/** Reads members of tar files by offset, keeping each file open until {@link close}. */
export class MemberReader {
  private readonly files = new Map<string, Promise<FileHandle>>();

  /** The bytes of one member of the tar file at `path`. */
  async read(path: string, member: IndexedMember): Promise<Buffer> {
    let fh = this.files.get(path);
    if (!fh) {
      fh = open(path, 'r');
      this.files.set(path, fh);
    }
    const buf = Buffer.alloc(member.size);
    const { bytesRead } = await (await fh).read(buf, 0, member.size, member.offset);
    if (bytesRead !== member.size) throw new Error(`${path}: short read at byte ${member.offset}`);
    return buf;
  }

  /** Closes every file; safe to call twice. */
  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    for (const f of files) {
      try {
        await (await f).close();
      } catch {
        // A file that failed to open has nothing to close.
      }
    }
  }
}

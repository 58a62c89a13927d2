/**
 * The off-site copy of backups (the seed spec's 网络异地备份): a small contract, so a chain can add
 * an object store or an rsync target, and the stock implementation — a second directory, normally
 * a volume mounted from another machine (NFS, SMB, a USB disk taken off-site).
 */
import { constants, createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { backupIdPattern } from './manifest.ts';

export interface OffsiteTarget {
  /** Where the copies go, for logs and the operations guide (never a credential). */
  readonly description: string;
  /**
   * Stores the files of backup `id`; resolves once all of them are stored durably. A backup is
   * either stored whole or not listed (a half-copied one never shows up in `list`).
   */
  put(id: string, files: readonly string[]): Promise<void>;
  /** Reads one stored file back (for verification and for restores from off-site). */
  read(id: string, file: string): Readable;
  /** Where a stored file can be opened as a local file, if the target is a file system. */
  localPath?(id: string, file: string): string;
  /** The ids of the backups stored whole. */
  list(): Promise<string[]>;
  remove(id: string): Promise<void>;
}

/** A second directory: `<root>/<id>/<file>`, written as `<id>.partial` and renamed when complete. */
export class DirectoryOffsite implements OffsiteTarget {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get description(): string {
    return `directory ${this.root}`;
  }

  async put(id: string, files: readonly string[]): Promise<void> {
    const partial = join(this.root, `${id}.partial`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    for (const file of files) {
      const target = join(partial, basename(file));
      await copyFile(file, target, constants.COPYFILE_EXCL);
      await fsync(target);
    }
    await fsync(partial);
    await rm(join(this.root, id), { recursive: true, force: true });
    await rename(partial, join(this.root, id));
    await fsync(this.root);
  }

  read(id: string, file: string): Readable {
    return createReadStream(this.localPath(id, file));
  }

  localPath(id: string, file: string): string {
    if (!backupIdPattern.test(id) || basename(file) !== file) throw new RangeError(`not a stored backup file: ${id}/${file}`);
    return join(this.root, id, file);
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.root)).filter((name) => backupIdPattern.test(name)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    if (!backupIdPattern.test(id)) throw new RangeError(`not a backup id: ${id}`);
    await rm(join(this.root, id), { recursive: true, force: true });
  }
}

/** Flushes a file or directory to the disk (a rename is durable only once its directory is). */
export async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

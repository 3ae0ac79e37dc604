/** The shapes the scanner hands to callers (`corral run`, `corral scan`) and its rules share. */

export interface Finding {
  /** Relative to the scanned root, POSIX separators, so it is stable across hosts and usable as a key. */
  path: string;
  /** 1-based; absent for findings about a whole file (a key file recognised by its name). */
  line?: number;
  /** Stable rule id, e.g. `github-token`. */
  rule: string;
  description: string;
  /** sha256 (hex) of the file's bytes: an "allowed" decision holds only for the content it was made on. */
  fingerprint: string;
  /** Shape only (fixed prefix, length): never any character of the secret itself. */
  preview: string;
}

export interface ScanOptions {
  /** Wall-clock budget in ms (default 3000); past it the scan stops and reports complete: false. */
  budgetMs?: number;
  /** Called after each file; the caller decides how often to show it. */
  onProgress?: (filesScanned: number, currentPath: string) => void;
  signal?: AbortSignal;
  /** Larger files are skipped by their content (default 1 MiB); name-based rules still apply. */
  maxFileBytes?: number;
  /**
   * Workspace-relative folders not to scan: corral's own data and state folders when they lie inside
   * (the sandbox never sees them) and masked folders (a volume covers them there).
   */
  skip?: string[];
}

/** What identifies a file's version without reading it (an incremental scan's cache key). */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface ScanResult {
  findings: Finding[];
  /** False when the budget ran out or the signal fired before every file was looked at. */
  complete: boolean;
  filesScanned: number;
  /** Why an incomplete scan stopped. */
  stoppedBy?: 'budget' | 'signal';
}

/** A finding before it is tied to a file's path and fingerprint. */
export interface Hit {
  line?: number;
  rule: string;
  description: string;
  preview: string;
}

/** What a rule sees: the file's name and, when it is a small text file, its text. */
export interface FileInput {
  /** Relative POSIX path. */
  path: string;
  /** Last path component. */
  name: string;
  /** Undefined for binary or oversized files. */
  text?: string;
}

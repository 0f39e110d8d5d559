/** The stored bytes do not hash to their key: damaged in the bucket or on the way. */
export class PhotoChecksumError extends Error {
  constructor(
    readonly key: string,
    readonly actual: string,
  ) {
    super(`stored content of ${key} has SHA-256 ${actual}`);
    this.name = 'PhotoChecksumError';
  }
}

// @ts-check
/**
 * Errors of the `.vlar` replay reader, mirroring the Python tree in schemas/errors.py:
 *
 *     ReplayFormatError          a replay file could not be read
 *     ├── UnsupportedVersionError  a major version, dtype or codec this viewer does not know
 *     └── CorruptReplayError       bad magic, truncated file, checksum or table mismatch
 *
 * Messages are plain sentences meant to be shown in the page as they are.
 */

export class ReplayFormatError extends Error {
  /**
   * @param {string} message
   * @param {ErrorOptions} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = 'ReplayFormatError';
  }
}

export class UnsupportedVersionError extends ReplayFormatError {
  /**
   * @param {string} message
   * @param {ErrorOptions} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = 'UnsupportedVersionError';
  }
}

export class CorruptReplayError extends ReplayFormatError {
  /**
   * @param {string} message
   * @param {ErrorOptions} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = 'CorruptReplayError';
  }
}

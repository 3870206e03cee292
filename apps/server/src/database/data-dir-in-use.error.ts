/** The embedded data folder is locked by another live Aviary server: two PGlite instances on one
 *  folder would corrupt it. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`AVIARY_DATA_DIR ${dataDir} is in use by another Aviary server (pid ${pid}); stop it, or point AVIARY_DATA_DIR at another folder`);
    this.name = 'DataDirInUseError';
  }
}

// Runs @arethetypeswrong/core (the engine of `attw`) on tarballs and prints their problems as JSON.
// A plain Node script, not imported by the test: the package's "development" export condition
// points at its TypeScript sources, which Vite's resolver would pick.
//   node attw.mjs a.tgz b.tgz   ->   { "a.tgz": [problems], ... }
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const problems = {};
for (const file of process.argv.slice(2)) {
  const result = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(file))));
  problems[file] = result.types === false ? [{ kind: 'NoTypes' }] : result.problems;
}
process.stdout.write(JSON.stringify(problems));

// The clients' build, run once per test session: GraphQL Code Generator (typed documents, persisted documents
// with SHA-256 ids, Apollo's possibleTypes), tsc --strict over its output and codegen/client.ts, and
// relay-compiler (artifacts and persisted queries); then one manifest of both for Portico's PERSISTED_MANIFEST:
// generated/persisted-documents.json.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const here = new URL('.', import.meta.url).pathname;
const generated = `${here}generated`;
const bin = (name) => `${here}node_modules/.bin/${name}`;

function step(label, command, args) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        console.log(`ok   ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        resolve();
      } else {
        reject(new Error(`${label} exited with ${code}:\n${output}`));
      }
    });
  });
}

rmSync(generated, { recursive: true, force: true });
mkdirSync(`${generated}/relay`, { recursive: true });
// relay-compiler refuses to start unless persistConfig.file exists, and its artifactDirectory too
writeFileSync(`${generated}/relay-persisted-documents.json`, '{}\n');

try {
  await Promise.all([
    step('graphql-codegen', bin('graphql-codegen'), ['--config', 'codegen.ts', '--silent'])
      .then(() => step('tsc --strict (codegen output and codegen/client.ts)', bin('tsc'), ['-p', 'tsconfig.json'])),
    step('relay-compiler', bin('relay-compiler'), ['relay.config.json']),
  ]);
} catch (error) {
  console.error(`FAIL ${error.message}`);
  process.exit(1);
}

// one manifest for the server: codegen's documents and relay's queries, each keyed by the SHA-256 of its text
const manifest = {};
for (const file of ['gql/persisted-documents.json', 'relay-persisted-documents.json']) {
  const documents = JSON.parse(readFileSync(`${generated}/${file}`, 'utf8'));
  for (const [id, text] of Object.entries(documents)) {
    if (createHash('sha256').update(text).digest('hex') !== id) {
      console.error(`FAIL generated/${file}: ${id} is not the SHA-256 of its document (hashAlgorithm / algorithm?)`);
      process.exit(1);
    }
    manifest[id] = text;
  }
  console.log(`ok   generated/${file}: ${Object.keys(documents).length} documents, SHA-256 ids`);
}
writeFileSync(`${generated}/persisted-documents.json`, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`ok   generated/persisted-documents.json: ${Object.keys(manifest).length} documents`);

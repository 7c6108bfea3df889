// GraphQL Code Generator 5, as a frontend team configures it against Portico (docs/clients.md):
// - generated/gql/: the client preset's typed documents, with persisted documents keyed by SHA-256 (the ids
//   Portico's manifest takes; without hashAlgorithm the preset writes SHA-1 ids);
// - generated/possible-types.json: the interfaces' and unions' members for Apollo Client's InMemoryCache.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['codegen/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    './generated/gql/': {
      preset: 'client',
      presetConfig: {
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        // Decimal, DateTime and Date travel as strings (the server's scalars are string-backed)
        scalars: { Decimal: 'string', DateTime: 'string', Date: 'string' },
        strictScalars: true,
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
    './generated/possible-types.json': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3 },
    },
  },
};

export default config;

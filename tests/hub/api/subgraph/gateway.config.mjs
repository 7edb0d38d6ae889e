// Hive Gateway's configuration for test_subgraph.py: the supergraph file it is given,
// and each caller's Authorization header passed on to the subgraphs, so the hub decides
// what the caller may see exactly as it does at /graphql.
import { defineConfig } from '@graphql-hive/gateway';

export const gatewayConfig = defineConfig({
  supergraph: process.env.SP4N_SUPERGRAPH,
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
  logging: 'warn',
});

// Runs graphql-http's server audit (the GraphQL-over-HTTP spec's reference
// implementation) against the URL given, printing one JSON array of results.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
const rows = results.map((result) => ({
  id: result.id,
  name: result.name,
  status: result.status,
  reason: result.status === 'ok' ? null : result.reason,
  got:
    result.status === 'ok'
      ? null
      : `${result.response.status} ${result.response.headers.get('content-type')}`,
}));
process.stdout.write(JSON.stringify(rows));

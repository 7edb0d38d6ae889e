// Composes Federation v2 subgraphs into a supergraph with The Guild's composition
// library (@theguild/federation-composition), as a gateway's build step would.
// Reads [{name, url, sdl}] as JSON from the file it is given; prints the supergraph
// SDL, or the composition errors on stderr with exit code 1.
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';

const subgraphs = JSON.parse(readFileSync(process.argv[2], 'utf8')).map(({ name, url, sdl }) => ({
  name,
  url,
  typeDefs: parse(sdl),
}));
const result = composeServices(subgraphs);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);

// Apollo Client (a third-party GraphQL client) against the hub, with its automatic
// persisted queries link: `node apq.mjs URL print|run`. `print` writes the documents
// as Apollo sends (and hashes) them; `run` runs each case with fresh clients and
// prints, per case, the answer and what went over the wire.
import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { print } from "graphql";

const [url, mode] = process.argv.slice(2);

const DOCUMENTS = {
  regions: gql`query Regions { regions { code name } }`,
  total: gql`query Total { reports(first: 1) { totalCount } }`,
  topics: gql`query Topics { topics { id name } }`,
};

function client(useGET, wire) {
  const logged = async (input, init) => {
    const target = new URL(typeof input === "string" ? input : input.url);
    const body = init?.body ? JSON.parse(init.body) : null;
    const query = body ? body.query : target.searchParams.get("query");
    const response = await fetch(input, init);
    wire.push({ method: init?.method ?? "GET", query: Boolean(query), status: response.status });
    return response;
  };
  const persisted = new PersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: useGET,
  });
  return new ApolloClient({
    link: ApolloLink.from([persisted, new HttpLink({ uri: url, fetch: logged })]),
    cache: new InMemoryCache(),
  });
}

async function run(name, useGET) {
  const wire = [];
  try {
    const result = await client(useGET, wire).query({ query: DOCUMENTS[name], fetchPolicy: "no-cache" });
    return { name, useGET, data: result.data, wire };
  } catch (error) {
    const errors = (error.errors ?? []).map((e) => ({ message: e.message, code: e.extensions?.code }));
    return { name, useGET, error: String(error.message), errors, wire };
  }
}

if (mode === "print") {
  // As the client sends them: its cache adds __typename to every selection.
  const cache = new InMemoryCache();
  const sent = Object.entries(DOCUMENTS).map(([k, d]) => [k, print(cache.transformDocument(d))]);
  console.log(JSON.stringify(Object.fromEntries(sent)));
} else {
  const cases = [];
  for (const [name, useGET] of [["regions", false], ["regions", false], ["total", true], ["total", true], ["topics", false]]) {
    cases.push(await run(name, useGET));
  }
  console.log(JSON.stringify(cases));
}

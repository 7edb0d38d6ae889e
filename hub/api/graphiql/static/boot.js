// Starts GraphiQL as strawberry's own page does (query, variables and headers in
// the URL, the explorer plugin, subscriptions over graphql-transport-ws), from
// the copies the hub ships. Strawberry's page also sends Django's csrftoken
// cookie; the hub sets none, so js-cookie is left out.
(function () {
  "use strict";

  const WELCOME = `# Welcome to the sp4n-hub's GraphiQL
#
# Run a query with Ctrl-Enter (or the play button); Ctrl-Space completes.
# Changing reports needs a token: open Headers below and paste
#
#     {"Authorization": "Bearer <token>"}
#
# For example:
#
#     { regions { code name } }
#
`;

  const parameters = {};
  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
        entry.slice(eq + 1),
      );
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);
    const search = Object.keys(parameters)
      .filter((key) => Boolean(parameters[key]))
      .map((key) => encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]))
      .join("&");
    history.replaceState(null, "", "?" + search);
  }

  const fetchURL = window.location.href.split("?")[0];
  const subscriptionURL = new URL(fetchURL);
  subscriptionURL.protocol = subscriptionURL.protocol === "https:" ? "wss:" : "ws:";
  subscriptionURL.hash = "";

  const fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    subscriptionUrl: subscriptionURL.toString(),
  });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();

  function HubGraphiQL() {
    const [query, setQuery] = React.useState(parameters.q || WELCOME);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [headers, setHeaders] = React.useState(parameters.headers);

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultEditorToolsVisibility: true,
      query: query,
      variables: variables,
      headers: headers,
      onEditQuery: (value) => {
        setQuery(value);
        updateURL({ q: value });
      },
      onEditVariables: (value) => {
        setVariables(value);
        updateURL({ variables: value });
      },
      // Headers hold tokens: kept in this browser's storage, never in the URL.
      onEditHeaders: setHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(HubGraphiQL),
  );
})();

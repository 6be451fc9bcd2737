// GraphiQL against this server: queries and mutations over POST /graphql,
// subscriptions over graphql-ws at /graphql/ws. A key typed into the
// headers tab ({"Authorization": "Bearer …"}) is sent with both.
(function () {
  const socket = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
  const fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: socket });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
})();

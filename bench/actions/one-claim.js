// The JavaScript action of bench/actions.sh: one claim, as an Auth0 user
// writes it.
exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim("https://example.com/tier", "gold");
};

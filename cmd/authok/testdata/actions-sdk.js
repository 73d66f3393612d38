// The Actions Management API with Auth0's official Node.js SDK (npm
// package auth0, installed in docs/examples/node): creates a JavaScript
// credentials-exchange action with a secret, deploys it and binds it
// (`node actions-sdk.js create`), or makes a deployed action deny every
// token (`node actions-sdk.js deny <action id>`). Run by actions_test.go
// against a real `authok dev`, with AUTHOK_URL and AUTHOK_BOOTSTRAP set
// and NODE_PATH naming docs/examples/node/node_modules.
'use strict';

const fs = require('node:fs');
const { ManagementClient } = require('auth0');

const url = new URL(process.env.AUTHOK_URL);
const creds = JSON.parse(fs.readFileSync(process.env.AUTHOK_BOOTSTRAP, 'utf8'));
const management = new ManagementClient({
  domain: url.host,
  clientId: creds.client_id,
  clientSecret: creds.client_secret,
  audience: creds.audience,
  // A fresh dev node compiles the JS engine at start-up and the first
  // create waits for it to check the code: seconds, far more under -race
  // on a busy machine, past the SDK's default 10 s.
  timeoutDuration: 180000,
  // The SDK always calls https://{domain}; dev serves plain HTTP.
  fetch: (input, init) => fetch(String(input).replace(/^https:/, 'http:'), init),
});

const tierCode = `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim("https://example.com/tier", event.secrets.TIER);
};`;

const denyCode = `exports.onExecuteCredentialsExchange = async (event, api) => {
  api.access.deny("tokens are paused for " + event.client.client_id);
};`;

async function create() {
  const { data: action } = await management.actions.create({
    name: 'tier-from-sdk',
    supported_triggers: [{ id: 'credentials-exchange', version: 'v2' }],
    runtime: 'node18',
    code: tierCode,
    secrets: [{ name: 'TIER', value: 'gold' }],
  });
  const { data: version } = await management.actions.deploy({ id: action.id });
  await management.actions.updateTriggerBindings(
    { triggerId: 'credentials-exchange' },
    { bindings: [{ ref: { type: 'action_id', value: action.id }, display_name: 'tier' }] },
  );
  const { data: bindings } = await management.actions.getTriggerBindings({ triggerId: 'credentials-exchange' });
  console.log(JSON.stringify({ action_id: action.id, version_id: version.id, bindings: bindings.bindings.length }));
}

async function deny(id) {
  await management.actions.update({ id }, { code: denyCode });
  const { data: version } = await management.actions.deploy({ id });
  console.log(JSON.stringify({ action_id: id, version_id: version.id }));
}

const [cmd, arg] = process.argv.slice(2);
(cmd === 'deny' ? deny(arg) : create()).catch((err) => {
  console.error(err.statusCode || '', err.message, err.body || '');
  process.exit(1);
});

// The machine-to-machine slice with Auth0's official Node.js SDK (npm
// package auth0, pinned in package.json) against authok: the SDK's
// ManagementClient creates an API, a machine client and a client grant; its
// AuthenticationClient gets the client's token for the API; Node's crypto
// checks the token against the JWKS found through discovery.
//
//   npm ci && node m2m.js        # against `make run`: http://127.0.0.1:8080, ../../../data/bootstrap.json
//   AUTHOK_URL=http://127.0.0.1:9000 AUTHOK_BOOTSTRAP=/tmp/d/bootstrap.json node m2m.js
//
// AUTHOK_API sets the new API's identifier (default
// https://orders-node.example.com/); a second run on the same data answers
// 409 conflict unless it names another one. See docs/api.md, "With an
// official SDK", for what differs from Auth0.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { ManagementClient, AuthenticationClient, ManagementApiError } = require('auth0');

const url = new URL(process.env.AUTHOK_URL || 'http://127.0.0.1:8080');
const creds = JSON.parse(fs.readFileSync(
  process.env.AUTHOK_BOOTSTRAP || path.join(__dirname, '../../../data/bootstrap.json'), 'utf8'));
const api = process.env.AUTHOK_API || 'https://orders-node.example.com/';

// The SDK always calls https://{domain}: it has no option for the scheme or
// a base URL. Behind TLS nothing more is needed. For a plain-HTTP dev server,
// its `fetch` option (a fetch of your own) sends the same request over http.
const options = { domain: url.host };
if (url.protocol === 'http:') {
  options.fetch = (input, init) => fetch(String(input).replace(/^https:/, 'http:'), init);
}

async function main() {
  // The ManagementClient gets its own token with client_credentials. Its
  // default audience is https://{domain}/api/v2/, which authok accepts as the
  // Management API's identifier when the issuer is https://{domain}/; with an
  // http issuer, name the audience (bootstrap.json has it).
  const management = new ManagementClient({
    ...options,
    clientId: creds.client_id,
    clientSecret: creds.client_secret,
    audience: creds.audience,
  });

  const { data: resourceServer } = await management.resourceServers.create({
    name: 'Orders (Node)',
    identifier: api,
    scopes: [
      { value: 'read:orders', description: 'Read orders' },
      { value: 'write:orders', description: 'Create orders' },
    ],
  });
  console.log('API', resourceServer.id, resourceServer.identifier);

  // The secret comes back on create (and on rotate-secret).
  const { data: client } = await management.clients.create({
    name: 'orders-worker-node',
    app_type: 'non_interactive',
  });
  console.log('client', client.client_id);

  const { data: grant } = await management.clientGrants.create({
    client_id: client.client_id,
    audience: api,
    scope: ['read:orders'],
  });
  console.log('grant', grant.id, grant.scope.join(' '));

  // Lists come in authok's envelope, {meta, items}, not Auth0's
  // {clients: [...]}; pages are 1-based (page 0 is page 1).
  const { data: page } = await management.clientGrants.getAll({ audience: api, page: 1, per_page: 50 });
  console.log('grants for the API:', page.meta.total, page.items.map((g) => g.id).join(' '));

  const auth = new AuthenticationClient({
    ...options,
    clientId: client.client_id,
    clientSecret: client.client_secret,
  });
  const { data: tokenSet } = await auth.oauth.clientCredentialsGrant({ audience: api });
  console.log('token', tokenSet.token_type, tokenSet.expires_in, tokenSet.scope);

  const claims = await verify(tokenSet.access_token, api);
  if (claims.sub !== client.client_id || claims.scope !== 'read:orders') {
    throw new Error(`unexpected claims ${JSON.stringify(claims)}`);
  }
  console.log(`m2m.js: token for ${api} verified (issuer ${claims.iss}, key ${claims.kid})`);
}

// verify checks a JWT access token as a relying party does: the key named by
// its kid in the JWKS that discovery points to, the signature, iss, aud, exp
// and typ.
async function verify(token, audience) {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const discovery = await (await fetch(new URL('/.well-known/openid-configuration', url))).json();
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in ${discovery.jwks_uri}`);
  const algs = {
    RS256: ['sha256', {}],
    PS256: ['sha256', { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
    ES256: ['sha256', { dsaEncoding: 'ieee-p1363' }],
    EdDSA: [null, {}],
  };
  if (!(header.alg in algs) || header.alg !== jwk.alg) throw new Error(`unexpected alg ${header.alg}`);
  const [hash, params] = algs[header.alg];
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  if (!crypto.verify(hash, Buffer.from(`${h}.${p}`), { key, ...params }, Buffer.from(s, 'base64url'))) {
    throw new Error('bad signature');
  }
  const now = Math.floor(Date.now() / 1000);
  if (header.typ !== 'at+jwt' || claims.iss !== discovery.issuer || claims.aud !== audience || !(claims.exp > now)) {
    throw new Error(`token rejected: header ${JSON.stringify(header)}, claims ${JSON.stringify(claims)}`);
  }
  return { ...claims, kid: header.kid };
}

main().catch((err) => {
  // ManagementApiError carries authok's error body (statusCode, errorCode, message).
  if (err instanceof ManagementApiError) {
    console.error(`m2m.js: ${err.statusCode} ${err.errorCode}: ${err.message}`);
  } else {
    console.error('m2m.js:', err.body || err.message || err);
  }
  process.exit(1);
});

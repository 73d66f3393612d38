#!/usr/bin/env bash
# The machine-to-machine slice with curl, jq and openssl, step by step as in
# docs/api.md ("Worked example"): a Management API token from the bootstrap
# credentials, an API with two scopes, a machine client, a client grant, a
# client_credentials token for the API, and that token checked the way a
# relying party would (discovery, JWKS, signature, claims).
#
#   docs/examples/m2m.sh                  # against `make run`: http://127.0.0.1:8080, data/bootstrap.json
#   AUTHOK_URL=http://127.0.0.1:9000 AUTHOK_BOOTSTRAP=/tmp/d/bootstrap.json docs/examples/m2m.sh
#
# AUTHOK_API sets the new API's identifier (default https://orders.example.com/);
# identifiers are unique per tenant, so a second run on the same data answers
# 409 conflict unless it names another one. docs/examples/examples_test.go
# runs this script against a fresh `authok dev`.
set -euo pipefail
for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "m2m.sh: needs $tool (Debian: apt-get install -y curl jq openssl)" >&2; exit 2; }
done

url=${AUTHOK_URL:-http://127.0.0.1:8080}
creds=${AUTHOK_BOOTSTRAP:-data/bootstrap.json}
api=${AUTHOK_API:-https://orders.example.com/}

# 1. A Management API token (client_credentials for the Management API's audience).
mgmt_token=$(curl -sS "$url/oauth/token" \
  -d grant_type=client_credentials \
  --data-urlencode "client_id=$(jq -r .client_id "$creds")" \
  --data-urlencode "client_secret=$(jq -r .client_secret "$creds")" \
  --data-urlencode "audience=$(jq -r .audience "$creds")" |
  jq -r '.access_token // error("no management token: \(.)")')

# 2. An API (resource server) with two scopes.
curl -sS "$url/api/v1/resource-servers" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg api "$api" '{name: "Orders", identifier: $api,
        scopes: [{value: "read:orders", description: "Read orders"},
                 {value: "write:orders", description: "Create orders"}]}')" |
  jq '.id // error("API not created: \(.)")'

# 3. A machine client; the secret is returned by this call (and by rotate-secret).
client=$(curl -sS "$url/api/v1/clients" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d '{"name": "orders-worker", "app_type": "non_interactive"}')
client_id=$(jq -r '.client_id // error("client not created: \(.)")' <<<"$client")
client_secret=$(jq -r .client_secret <<<"$client")

# 4. A client grant: the client may get tokens for the API with read:orders.
curl -sS "$url/api/v1/client-grants" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg c "$client_id" --arg api "$api" '{client_id: $c, audience: $api, scope: ["read:orders"]}')" |
  jq '.id // error("grant not created: \(.)")'

# 5. The machine client's own token for the API.
token=$(curl -sS "$url/oauth/token" \
  -d grant_type=client_credentials \
  --data-urlencode "client_id=$client_id" \
  --data-urlencode "client_secret=$client_secret" \
  --data-urlencode "audience=$api" |
  jq -r '.access_token // error("no token: \(.)")')

# 6. Check it as a relying party does: find the JWKS through discovery, take
#    the key named by the token's kid, verify the RS256 signature with its
#    certificate (x5c), then the claims.
b64url() { local s; s=$(tr '_-' '/+'); case $((${#s} % 4)) in 2) s+='==' ;; 3) s+='=' ;; esac; base64 -d <<<"$s"; }
IFS=. read -r h p s <<<"$token"
header=$(b64url <<<"$h"); claims=$(b64url <<<"$p")
jq . <<<"$header"; jq . <<<"$claims"

discovery=$(curl -sS "$url/.well-known/openid-configuration")
issuer=$(jq -r .issuer <<<"$discovery")
kid=$(jq -r .kid <<<"$header")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
curl -sS "$(jq -r .jwks_uri <<<"$discovery")" |
  jq -r --arg kid "$kid" '.keys[] | select(.kid == $kid) | .x5c[0] // error("no key \($kid) in the JWKS")' |
  { echo '-----BEGIN CERTIFICATE-----'; fold -w 64; echo '-----END CERTIFICATE-----'; } >"$work/cert.pem"
openssl x509 -in "$work/cert.pem" -pubkey -noout >"$work/key.pem"
b64url <<<"$s" >"$work/sig"
printf '%s' "$h.$p" | openssl dgst -sha256 -verify "$work/key.pem" -signature "$work/sig"

jq -e --arg iss "$issuer" --arg aud "$api" --arg cid "$client_id" --argjson now "$(date +%s)" \
  '.iss == $iss and .aud == $aud and .sub == $cid and .scope == "read:orders" and .exp > $now' <<<"$claims" >/dev/null ||
  { echo "m2m.sh: unexpected claims" >&2; exit 1; }
jq -e '.typ == "at+jwt" and .alg == "RS256"' <<<"$header" >/dev/null ||
  { echo "m2m.sh: unexpected header" >&2; exit 1; }
echo "m2m.sh: token for $api verified (issuer $issuer, key $kid)"

#!/usr/bin/env bash
# Actions with curl and jq, step by step as in docs/actions.md ("Create,
# test, deploy, bind"): a WebAssembly action
# (actions-runtime/examples/wat/credentials-exchange.wat, built with wabt's
# wat2wasm) that copies the secret TIER into a claim and refuses clients
# whose metadata says blocked. It is created with its secret, tested,
# deployed and bound to credentials-exchange; then a machine client's token
# carries the claim, and once the client is marked blocked its token
# request answers access_denied.
#
#   docs/examples/actions.sh              # against `make run`: http://127.0.0.1:8080, data/bootstrap.json
#   AUTHOK_URL=http://127.0.0.1:9000 AUTHOK_BOOTSTRAP=/tmp/d/bootstrap.json docs/examples/actions.sh
#
# Run it from the checkout's root (or anywhere: it finds the WAT file from
# its own path). Action names and API identifiers are unique per tenant, so
# a second run on the same data answers 409 unless AUTHOK_API and
# AUTHOK_ACTION name others. docs/examples/actions_test.go runs this script
# against a fresh `authok dev`.
set -euo pipefail
for tool in curl jq wat2wasm base64; do
  command -v "$tool" >/dev/null || { echo "actions.sh: needs $tool (Debian: apt-get install -y curl jq wabt coreutils)" >&2; exit 2; }
done

url=${AUTHOK_URL:-http://127.0.0.1:8080}
creds=$(realpath -m "${AUTHOK_BOOTSTRAP:-data/bootstrap.json}")
api=${AUTHOK_API:-https://billing.example.com/}
name=${AUTHOK_ACTION:-add-tier}
cd "$(dirname "$0")/../.."

# A Management API token, an API, a machine client and its grant, as in
# docs/api.md's worked example.
mgmt_token=$(curl -sS "$url/oauth/token" \
  -d grant_type=client_credentials \
  --data-urlencode "client_id=$(jq -r .client_id "$creds")" \
  --data-urlencode "client_secret=$(jq -r .client_secret "$creds")" \
  --data-urlencode "audience=$(jq -r .audience "$creds")" |
  jq -r '.access_token // error("no management token: \(.)")')
curl -sS "$url/api/v1/resource-servers" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg api "$api" '{name: "Billing", identifier: $api, scopes: [{value: "read:invoices"}]}')" |
  jq '.id // error("API not created: \(.)")'
client=$(curl -sS "$url/api/v1/clients" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d '{"name": "billing-worker", "app_type": "non_interactive"}')
client_id=$(jq -r '.client_id // error("client not created: \(.)")' <<<"$client")
client_secret=$(jq -r .client_secret <<<"$client")
curl -sS "$url/api/v1/client-grants" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg c "$client_id" --arg api "$api" '{client_id: $c, audience: $api, scope: ["read:invoices"]}')" |
  jq '.id // error("grant not created: \(.)")'

# 1. Build the module and create the action with it (base64 in "module")
#    and its secret.
module=$(mktemp --suffix=.wasm)
trap 'rm -f "$module"' EXIT
wat2wasm actions-runtime/examples/wat/credentials-exchange.wat -o "$module"
action_id=$(curl -sS "$url/api/v1/actions/actions" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg name "$name" --arg m "$(base64 -w0 "$module")" \
        '{name: $name, supported_triggers: [{id: "credentials-exchange", version: "v2"}],
          runtime: "wasm", module: $m, secrets: [{name: "TIER", value: "gold"}]}')" |
  jq -r '.id // error("action not created: \(.)")')

# The module can also be sent raw, here to replace the action's module.
curl -sS -X PATCH "$url/api/v1/actions/actions/$action_id" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/wasm' \
  --data-binary @"$module" |
  jq 'if .module_size then {runtime, module_size, module_sha256} else error("module not replaced: \(.)") end'

# 2. Test it on an event of your own: its commands, logs and errors.
test=$(curl -sS "$url/api/v1/actions/actions/$action_id/test" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d '{"payload": {"client": {"client_id": "c1", "metadata": {}}}}')
jq 'del(.payload)' <<<"$test"
jq -e '.commands[0].data.value == "gold"' <<<"$test" >/dev/null || { echo "actions.sh: unexpected test result: $test" >&2; exit 1; }

# 3. Deploy it: the draft becomes version 1, the one that runs.
curl -sS -X POST "$url/api/v1/actions/actions/$action_id/deploy" \
  -H "Authorization: Bearer $mgmt_token" |
  jq '.number // error("not deployed: \(.)")'

# 4. Bind it: the trigger's whole ordered list of actions.
curl -sS -X PATCH "$url/api/v1/actions/triggers/credentials-exchange/bindings" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d "$(jq -n --arg id "$action_id" '{bindings: [{ref: {type: "action_id", value: $id}, display_name: "tier"}]}')" |
  jq '.bindings // error("not bound: \(.)") | map({id, action: .action.name})'

# 5. A token for the API now carries the claim. The edge loads the new
#    version in the background, so the first tokens may come before it.
b64url() { local s; s=$(tr '_-' '/+'); case $((${#s} % 4)) in 2) s+='==' ;; 3) s+='=' ;; esac; base64 -d <<<"$s"; }
token_request() {
  curl -sS "$url/oauth/token" -d grant_type=client_credentials \
    --data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret" \
    --data-urlencode "audience=$api"
}
tier_claim() {
  token_request | jq -r '.access_token // error("no token: \(.)")' | cut -d. -f2 | b64url | jq -r '."https://example.com/tier" // empty'
}
for _ in $(seq 100); do
  tier=$(tier_claim)
  [ -n "$tier" ] && break
  sleep 0.1
done
[ "$tier" = gold ] || { echo "actions.sh: the token has no https://example.com/tier claim" >&2; exit 1; }
echo "actions.sh: the token says https://example.com/tier = $tier"

# 6. Mark the client blocked: the action refuses its tokens.
curl -sS -X PATCH "$url/api/v1/clients/$client_id" \
  -H "Authorization: Bearer $mgmt_token" -H 'Content-Type: application/json' \
  -d '{"client_metadata": {"blocked": "true"}}' | jq -e .client_id >/dev/null
for _ in $(seq 100); do
  answer=$(token_request)
  [ "$(jq -r .error <<<"$answer")" = access_denied ] && break
  sleep 0.1
done
jq -e '.error == "access_denied" and .error_description == "this client may not get tokens"' <<<"$answer" >/dev/null ||
  { echo "actions.sh: a blocked client got: $answer" >&2; exit 1; }
echo "actions.sh: the blocked client is refused: $(jq -c . <<<"$answer")"

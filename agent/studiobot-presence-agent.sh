#!/bin/bash
# Writes this workstation's presence answer on its own EC2 tags, for sites where studiobot cannot use SSM.
#
# systemd/studiobot-presence.timer runs it every 2 minutes, as root (DCV lists every session only to root);
# presence.sh is installed next to it. Tags: `studiobot:presence` = the answer as compact JSON, and
# `studiobot:presence-at` = when, in unix seconds, so a stale answer shows as stale. An EC2 tag value holds 256
# characters: a longer answer keeps the first connection and the count ({"connections":[first],"count":N,…}).
# The instance's role needs WorkstationPresenceAgentPolicy (infra/iam.yml), which lets it tag only itself.
set -u
here=$(cd "$(dirname "$0")" && pwd)
imds=http://169.254.169.254/latest

fail() {
  echo "studiobot-presence: $1" >&2
  exit 1
}

answer=$(bash "$here/presence.sh" | tail -n 1)
now=$(date +%s)

# IMDSv2: a session token first, then the instance's own id and region.
token=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/api/token") ||
  fail "no instance metadata token: is this an EC2 instance?"
instance=$(curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/instance-id") ||
  fail "no instance id from the instance metadata"
region=$(curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/placement/region") ||
  fail "no region from the instance metadata"

if command -v python3 >/dev/null 2>&1; then
  tags=$(python3 - "$answer" "$now" <<'PY'
import json, sys

LIMIT = 256  # characters in an EC2 tag value


def compact(data):
    return json.dumps(data, separators=(",", ":"))


answer, now = sys.argv[1], sys.argv[2]
try:
    data = json.loads(answer)
except ValueError:
    data = None
if not isinstance(data, dict) or "studiobot_presence" not in data:
    data = {"studiobot_presence": 1, "dcv": False, "connections": [], "idle_s": None}
value = compact(data)
if len(value) > LIMIT:
    connections = data.get("connections") or []
    head = connections[0] if connections and isinstance(connections[0], dict) else {}
    user = head.get("user") if isinstance(head.get("user"), str) else None
    # The first connection whole, then its user's name cut short, then none: the count always survives.
    for kept in ([head], [{"user": user[:64] if user else None, "since": None}], []):
        value = compact({"studiobot_presence": 1, "dcv": data.get("dcv"), "connections": kept,
                         "count": len(connections), "idle_s": data.get("idle_s")})
        if len(value) <= LIMIT:
            break
print(json.dumps([{"Key": "studiobot:presence", "Value": value}, {"Key": "studiobot:presence-at", "Value": now}]))
PY
  ) || fail "python3 could not build the tags"
else
  # Without python3, presence.sh names no users (it only counts), so its line compacts with sed alone.
  value=$(printf '%s' "$answer" | sed 's/": /":/g; s/, /,/g')
  if [ "${#value}" -gt 256 ]; then
    count=$(printf '%s' "$value" | grep -o '{"user"' | grep -c .)
    value="{\"studiobot_presence\":1,\"dcv\":true,\"connections\":[],\"count\":$count,\"idle_s\":null}"
  fi
  escaped=$(printf '%s' "$value" | sed 's/\\/\\\\/g; s/"/\\"/g')
  tags="[{\"Key\":\"studiobot:presence\",\"Value\":\"$escaped\"},{\"Key\":\"studiobot:presence-at\",\"Value\":\"$now\"}]"
fi

aws ec2 create-tags --region "$region" --resources "$instance" --tags "$tags" ||
  fail "could not tag $instance: does its role have WorkstationPresenceAgentPolicy, and the studiobot:workstation tag?"

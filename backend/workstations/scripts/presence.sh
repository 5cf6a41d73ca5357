#!/bin/bash
# Who is connected to this workstation's Amazon DCV sessions, and how long since their last input.
#
# Studiobot runs this file's text through SSM Run Command (the stack's own document studiobot-<stage>-presence,
# as root) at the moment it would stop the instance; agent/ runs it on a timer where SSM cannot reach. It prints ONE line of JSON, last, and
# always exits 0:
#   {"studiobot_presence": 1, "dcv": true, "connections": [{"user": "anna", "since": "2026-11-30T19:40:00Z"}], "idle_s": 180}
# "dcv": false means "cannot tell" (no DCV, its server down, its answer unreadable). Studiobot never takes that
# for "nobody is connected", so every doubt below ends there rather than in an empty list. Reasons go to stderr.
set -u

no_answer() {
  echo "presence: $1" >&2
  echo '{"studiobot_presence": 1, "dcv": false, "connections": [], "idle_s": null}'
  exit 0
}

command -v dcv >/dev/null 2>&1 || no_answer "the Amazon DCV CLI (dcv) is not installed"
sessions=$(dcv list-sessions -j 2>/dev/null) || no_answer "dcv list-sessions failed: is dcvserver running?"

if command -v python3 >/dev/null 2>&1; then
  # DCV answers in JSON: python3 reads it (and asks DCV about each session), the shell alone could only count.
  # Kept to Python 3.6 (RHEL 8; Amazon Linux 2 has 3.7).
  answer=$(python3 - "$sessions" <<'PY'
import json, os, re, subprocess, sys, time
from datetime import datetime, timedelta

UNKNOWN = {"user": None, "since": None}


def run(args, env=None):
    """A command's stdout, or None when it is missing, fails or hangs."""
    try:
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True, timeout=15, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def parsed(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def first(entry, *keys):
    """The first non-empty text among keys whose spelling varies between DCV releases."""
    for key in keys:
        if isinstance(entry.get(key), str) and entry[key]:
            return entry[key]
    return None


def utc(text):
    """DCV's timestamp (ISO-8601, UTC when it names no zone) as ...Z, or None."""
    found = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$", (text or "").strip())
    if not found:
        return None
    stamp = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = (found.group(2) or "Z").replace(":", "")
    if zone != "Z":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        stamp = stamp - offset if zone[0] == "+" else stamp + offset
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def connections_of(session):
    """One entry per open client connection, or None when DCV will not say."""
    listed = parsed(run(["dcv", "list-connections", "-j", session["id"]]))
    if isinstance(listed, dict):
        listed = listed.get("connections")
    if isinstance(listed, list):
        return [
            {"user": first(item, "user", "username", "user-name"),
             "since": utc(first(item, "connection-time", "creation-time", "start-time", "since"))}
            if isinstance(item, dict) else dict(UNKNOWN)
            for item in listed
        ]
    count = session.get("num-of-connections")  # list-sessions' own count: who is unknown, how many is not
    return [dict(UNKNOWN) for _ in range(count)] if isinstance(count, int) else None


def idle_of(session):
    """Seconds since the session's last keyboard or mouse input, or None when it cannot be told."""
    described = parsed(run(["dcv", "describe-session", "-j", session["id"]]))
    described = described if isinstance(described, dict) else {}
    display = described.get("x11-display") or session.get("x11-display")
    if display:
        # As root, reaching the session's X server takes its authority file (a virtual session's is named here).
        env = dict(os.environ, DISPLAY=display)
        if described.get("x11-authority"):
            env["XAUTHORITY"] = described["x11-authority"]
        millis = (run(["xprintidle"], env=env) or "").strip()
        if millis.isdigit():
            return int(millis) // 1000
    return logind_idle(described.get("owner") or session.get("owner"), display)


def logind_idle(owner, display):
    """logind's idle hint for the owner's session. Only a "yes" is believed: remote desktops often leave it "no"."""
    listed = run(["loginctl", "list-sessions", "--no-legend"]) if owner else None
    idle = []
    for line in (listed or "").splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[2] != owner:
            continue
        shown = run(["loginctl", "show-session", fields[0], "-p", "Display", "-p", "IdleHint", "-p", "IdleSinceHint"])
        info = dict(item.split("=", 1) for item in (shown or "").splitlines() if "=" in item)
        if display and info.get("Display") and info["Display"] != display:
            continue
        if info.get("IdleHint") != "yes" or not info.get("IdleSinceHint", "").isdigit():
            return None
        idle.append(max(0, int(time.time() - int(info["IdleSinceHint"]) / 1e6)))
    return min(idle) if idle else None


def answer(sessions):
    if isinstance(sessions, dict):
        sessions = sessions.get("sessions")
    if not isinstance(sessions, list) or not all(isinstance(s, dict) and isinstance(s.get("id"), str) for s in sessions):
        return None, "dcv list-sessions -j gave no list of sessions"
    connections, idle = [], []
    for session in sessions:
        found = connections_of(session)
        if found is None:
            return None, "dcv would not list the connections of session " + session["id"]
        connections += found
        if found:
            idle.append(idle_of(session))
    # Any connected session whose idle time is unknown may be the busy one: then the whole answer is unknown.
    return {"connections": connections, "idle_s": min(idle) if idle and None not in idle else None}, ""


found, why = answer(parsed(sys.argv[1]))
if found is None:
    sys.stderr.write("presence: " + why + "\n")
    found = {"dcv": False, "connections": [], "idle_s": None}
print(json.dumps(dict({"studiobot_presence": 1, "dcv": True}, **found)))
PY
  )
  [ -n "$answer" ] && { printf '%s\n' "$answer"; exit 0; }
  echo "presence: python3 could not read DCV's answer; counting connections only" >&2
fi

# Without python3: the sessions' own "num-of-connections", whose users stay unknown (studiobot says "someone").
case "$(printf '%s' "$sessions" | tr -d '[:space:]')" in
  '['*']') ;;
  *) no_answer "dcv list-sessions -j did not answer with a JSON list" ;;
esac
flat=$(printf '%s\n' "$sessions" | tr ',{}' '\n\n\n')
session_count=$(printf '%s\n' "$flat" | grep -c '"id"[[:space:]]*:')
counts=$(printf '%s\n' "$flat" | sed -n 's/^[[:space:]]*"num-of-connections"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p')
[ "$(printf '%s' "$counts" | grep -c .)" -eq "$session_count" ] || no_answer "no connection count for every session"
entries=""
for count in $counts; do
  while [ "$count" -gt 0 ]; do
    entries="${entries:+$entries, }{\"user\": null, \"since\": null}"
    count=$((count - 1))
  done
done
printf '{"studiobot_presence": 1, "dcv": true, "connections": [%s], "idle_s": null}\n' "$entries"
exit 0

# Who is connected to this workstation's Amazon DCV sessions, and how long since their last input (Windows).
#
# Studiobot runs this file's text through SSM Run Command (the stack's own document studiobot-<stage>-presence,
# as SYSTEM) at the moment it would stop the instance; agent/windows runs it on a schedule where SSM cannot reach. It prints ONE line of
# JSON, last, and always exits 0:
#   {"studiobot_presence": 1, "dcv": true, "connections": [{"user": "anna", "since": "2026-11-30T19:40:00Z"}], "idle_s": 180}
# "dcv": false means "cannot tell" (no DCV, its service down, its answer unreadable). Studiobot never takes that
# for "nobody is connected", so every doubt below ends there rather than in an empty list. Reasons go to stderr.
# Written for Windows PowerShell 5.1, which SSM runs; PowerShell 7 reads it the same.
$ErrorActionPreference = 'SilentlyContinue'
$dcv = 'C:\Program Files\NICE\DCV\Server\bin\dcv.exe'

function Write-Presence($dcvAnswered, $connections, $idle, $why) {
    if ($why) { [Console]::Error.WriteLine("presence: $why") }
    $list = New-Object System.Collections.Generic.List[object]  # a List stays a JSON list, even of one or none
    foreach ($item in $connections) { $list.Add($item) }
    $answer = [ordered]@{ studiobot_presence = 1; dcv = $dcvAnswered; connections = $list; idle_s = $idle }
    Write-Output (ConvertTo-Json $answer -Compress -Depth 4)
    exit 0
}

function Read-Json([string]$text) {
    # PowerShell 5.1 hands a JSON list over as one object, 7 item by item: either way, a plain array of items.
    $parsed = ConvertFrom-Json $text -ErrorAction Stop
    return , @($parsed | Where-Object { $null -ne $_ })
}

function First($item, [string[]]$keys) {
    # The first non-empty value among keys whose spelling varies between DCV releases.
    foreach ($key in $keys) { if ($item.$key) { return $item.$key } }
    return $null
}

function ConvertTo-Utc($stamp) {
    if (-not $stamp) { return $null }
    try {
        if ($stamp -isnot [datetime]) {  # 7 turns ISO-8601 text into a DateTime itself; 5.1 leaves text
            $stamp = [DateTimeOffset]::Parse([string]$stamp, [Globalization.CultureInfo]::InvariantCulture,
                [Globalization.DateTimeStyles]::AssumeUniversal).UtcDateTime
        }
        return $stamp.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
    } catch { return $null }
}

function Get-QuserIdle {
    # `quser` reports every logged-on session's IDLE TIME, whoever asks: the way to see the console's (where a
    # DCV console session's input lands) or an RDP session's from SYSTEM. A line with a session name is attached
    # (console, rdp-tcp#N); a disconnected one has none and is skipped. IDLE TIME is "none" or "." under a
    # minute, then minutes, "h:mm" or "d+h:mm". Another language's "none" reads as unknown.
    if (-not (Get-Command quser.exe -ErrorAction SilentlyContinue)) { return $null }  # not on every edition
    $idle = @()
    foreach ($line in @(quser 2>$null | Select-Object -Skip 1)) {
        if ($line -notmatch '^\s*>?\S+\s+\S+\s+\d+\s+\S+\s+(\S+)\s+\S') { continue }
        $text = $Matches[1]
        if ($text -eq 'none' -or $text -eq '.') { $idle += 0; continue }
        if ($text -match '^(?:(\d+)\+)?(?:(\d+):)?(\d+)$') {
            $idle += [int]$Matches[1] * 86400 + [int]$Matches[2] * 3600 + [int]$Matches[3] * 60
        } else { return $null }
    }
    if ($idle.Count -eq 0) { return $null }
    return ($idle | Measure-Object -Minimum).Minimum
}

function Get-InputIdle {
    # GetLastInputInfo sees only the input of the session it runs in. Under SSM, as SYSTEM, that is session 0,
    # where nobody types: there it would report a meaningless number, so it is asked only outside session 0.
    if ([Diagnostics.Process]::GetCurrentProcess().SessionId -eq 0) { return $null }
    Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class StudiobotLastInput {
    [StructLayout(LayoutKind.Sequential)] struct Info { public uint Size; public uint Time; }
    [DllImport("user32.dll")] static extern bool GetLastInputInfo(ref Info info);
    public static long IdleMilliseconds() {
        var info = new Info();
        info.Size = (uint)Marshal.SizeOf(typeof(Info));
        if (!GetLastInputInfo(ref info)) return -1;
        return unchecked((uint)Environment.TickCount - info.Time);
    }
}
'@
    $milliseconds = [StudiobotLastInput]::IdleMilliseconds()
    if ($milliseconds -lt 0) { return $null }
    return [int][Math]::Floor($milliseconds / 1000)
}

if (-not (Test-Path $dcv)) {
    $found = Get-Command dcv.exe -ErrorAction SilentlyContinue
    if (-not $found) { Write-Presence $false @() $null 'Amazon DCV Server is not installed' }
    $dcv = $found.Source
}
$text = & $dcv list-sessions -j 2>$null | Out-String
if ($LASTEXITCODE -ne 0) { Write-Presence $false @() $null 'dcv list-sessions failed: is the DCV Server service running?' }
try { $sessions = Read-Json $text } catch { Write-Presence $false @() $null 'dcv list-sessions -j did not answer in JSON' }

$connections = @()
foreach ($session in $sessions) {
    if (-not $session.id) { Write-Presence $false @() $null 'a DCV session without an id' }
    $text = & $dcv list-connections -j $session.id 2>$null | Out-String
    $listed = $null
    if ($LASTEXITCODE -eq 0) { try { $listed = Read-Json $text } catch { $listed = $null } }
    if ($null -ne $listed) {
        foreach ($item in $listed) {
            $connections += [ordered]@{
                user  = First $item @('user', 'username', 'user-name')
                since = ConvertTo-Utc (First $item @('connection-time', 'creation-time', 'start-time', 'since'))
            }
        }
    } elseif ("$($session.'num-of-connections')" -match '^\d+$') {
        # DCV's own count for the session: who is unknown, how many is not.
        for ($n = 0; $n -lt [int]$session.'num-of-connections'; $n++) { $connections += [ordered]@{ user = $null; since = $null } }
    } else {
        Write-Presence $false @() $null "dcv would not list the connections of session $($session.id)"
    }
}

$idle = $null
if ($connections.Count -gt 0) {
    $idle = Get-QuserIdle
    if ($null -eq $idle) { $idle = Get-InputIdle }
}
Write-Presence $true $connections $idle $null

# Writes this workstation's presence answer on its own EC2 tags (Windows), for sites where studiobot cannot
# use SSM. install.ps1 registers it as a scheduled task, as SYSTEM, every 2 minutes; presence.ps1 is installed
# next to it. Tags as on Linux (agent/README.md): `studiobot:presence` = the answer as compact JSON, cut to the
# first connection and the count past EC2's 256 characters, and `studiobot:presence-at` = unix seconds.
# The instance's role needs WorkstationPresenceAgentPolicy (infra/iam.yml), which lets it tag only itself.
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$limit = 256

function Compact($data) { ConvertTo-Json $data -Compress -Depth 4 }

$answer = @(& (Join-Path $here 'presence.ps1'))[-1]
$now = [string][DateTimeOffset]::UtcNow.ToUnixTimeSeconds()

# IMDSv2: a session token first, then the instance's own id and region.
$imds = 'http://169.254.169.254/latest'
$token = Invoke-RestMethod -Method Put -Uri "$imds/api/token" -TimeoutSec 5 `
    -Headers @{ 'X-aws-ec2-metadata-token-ttl-seconds' = '300' }
$headers = @{ 'X-aws-ec2-metadata-token' = $token }
$instance = Invoke-RestMethod -Uri "$imds/meta-data/instance-id" -Headers $headers -TimeoutSec 5
$region = Invoke-RestMethod -Uri "$imds/meta-data/placement/region" -Headers $headers -TimeoutSec 5

$value = $answer
try { $data = ConvertFrom-Json $answer } catch { $data = $null }
if ($null -eq $data -or $null -eq $data.studiobot_presence) {
    $data = [ordered]@{ studiobot_presence = 1; dcv = $false; connections = @(); idle_s = $null }
    $value = Compact $data
}
if ($value.Length -gt $limit) {
    $connections = @($data.connections | Where-Object { $null -ne $_ })
    $user = if ($connections.Count -gt 0 -and $connections[0].user) { [string]$connections[0].user } else { $null }
    $short = if ($user -and $user.Length -gt 64) { $user.Substring(0, 64) } else { $user }
    # The first connection whole, then its user's name cut short, then none: the count always survives.
    $first = if ($connections.Count -gt 0) { $connections[0] } else { $null }
    foreach ($kept in @($first, [ordered]@{ user = $short; since = $null }, $null)) {
        $list = New-Object System.Collections.Generic.List[object]  # a List stays a JSON list, even of one or none
        if ($null -ne $kept) { $list.Add($kept) }
        $value = Compact ([ordered]@{ studiobot_presence = 1; dcv = $data.dcv; connections = $list
                                      count = $connections.Count; idle_s = $data.idle_s })
        if ($value.Length -le $limit) { break }
    }
}

$tags = @(@{ Key = 'studiobot:presence'; Value = $value }, @{ Key = 'studiobot:presence-at'; Value = $now })
if (Get-Command New-EC2Tag -ErrorAction SilentlyContinue) {  # AWS Tools for PowerShell (on AWS's Windows AMIs)
    New-EC2Tag -Region $region -Resource $instance -Tag $tags
} else {
    # Windows PowerShell mangles quotes in arguments to native programs: the CLI reads the tags from a file.
    $file = Join-Path $env:TEMP 'studiobot-presence-tags.json'
    [IO.File]::WriteAllText($file, (ConvertTo-Json $tags -Compress))  # UTF-8 without a byte-order mark
    $env:AWS_CLI_FILE_ENCODING = 'UTF-8'
    & aws ec2 create-tags --region $region --resources $instance --tags "file://$file"
    if ($LASTEXITCODE -ne 0) { throw "could not tag ${instance}: does its role have WorkstationPresenceAgentPolicy?" }
}

# Installs the studiobot presence agent on a Windows workstation: copies the two scripts into $Target and
# registers the scheduled task `studiobot-presence`, as SYSTEM, every 2 minutes. Run it as Administrator from
# a checkout (or from a folder holding install.ps1, studiobot-presence-agent.ps1 and presence.ps1).
#Requires -RunAsAdministrator
param([string]$Target = 'C:\Program Files\studiobot')
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path

$presence = Join-Path $here 'presence.ps1'
if (-not (Test-Path $presence)) { $presence = Join-Path $here '..\..\backend\workstations\scripts\presence.ps1' }
New-Item -ItemType Directory -Force -Path $Target | Out-Null
Copy-Item -Force (Join-Path $here 'studiobot-presence-agent.ps1'), $presence -Destination $Target

$agent = Join-Path $Target 'studiobot-presence-agent.ps1'
$action = New-ScheduledTaskAction -Execute 'powershell.exe' `
    -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$agent`""
# No -RepetitionDuration: since Windows Server 2016 a repetition without one goes on indefinitely, reboots included.
$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date).AddMinutes(1) -RepetitionInterval (New-TimeSpan -Minutes 2)
$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Minutes 1) -MultipleInstances IgnoreNew `
    -StartWhenAvailable
Register-ScheduledTask -TaskName 'studiobot-presence' -Action $action -Trigger $trigger -Principal $principal `
    -Settings $settings -Description 'studiobot: tag this workstation with who is connected to Amazon DCV' -Force | Out-Null
Write-Output "Installed in $Target; the task studiobot-presence runs every 2 minutes (first run in about a minute)."

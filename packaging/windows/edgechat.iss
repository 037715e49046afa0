; Inno Setup script: a per-user installer (no admin rights) with a Start-menu entry and an
; uninstaller. Built by ./scripts/package on Windows (iscc), from dist\edgechat\.
; User data lives in %LOCALAPPDATA%\EdgeChat, outside {app}: upgrades and uninstalls keep it.
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6E1E2C4B-5A0F-4C1D-9E0A-EDGEC4A70001}
AppName=EdgeChat
AppVersion={#AppVersion}
AppPublisher=EdgeChat developers
DefaultDirName={localappdata}\Programs\EdgeChat
DefaultGroupName=EdgeChat
PrivilegesRequired=lowest
DisableProgramGroupPage=yes
OutputBaseFilename=EdgeChat-{#AppVersion}-Setup
SetupIconFile=..\..\build\edgechat.ico
UninstallDisplayIcon={app}\edgechat.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
CloseApplications=yes

[Files]
Source: "..\..\dist\edgechat\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundle whole, so no library of an older version lingers beside the new.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{userprograms}\EdgeChat"; Filename: "{app}\edgechat.exe"
Name: "{userdesktop}\EdgeChat"; Filename: "{app}\edgechat.exe"; Tasks: desktopicon

[Tasks]
Name: desktopicon; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\edgechat.exe"; Description: "Start EdgeChat"; Flags: nowait postinstall skipifsilent

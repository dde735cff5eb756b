// Helios edits to the Kasm web client, applied to the unpacked tree.
// Usage: node novnc-patch.js <tree> <webrtc: true|false>
// Every edit must match exactly once, otherwise the build stops naming the file and edit.
'use strict';
const fs = require('fs');
const path = require('path');

const [tree, webrtc] = process.argv.slice(2);
if (!tree || (webrtc !== 'true' && webrtc !== 'false')) {
    console.error('usage: node novnc-patch.js <tree> <true|false>');
    process.exit(2);
}

function edit(file, what, from, to) {
    const full = path.join(tree, file);
    const text = fs.readFileSync(full, 'utf8');
    const count = text.split(from).length - 1;
    if (count !== 1) {
        console.error(`helios: error: ${file}: edit "${what}" matched ${count} times (expected 1)`);
        process.exit(1);
    }
    fs.writeFileSync(full, text.replace(from, to));
    console.error(`helios: ${file}: ${what}`);
}

// Every distro: hide the game pointer mode button.
edit('index.html', 'hide game mode button',
    '<div class="noVNC_button_div noVNC_hidden noVNC_hide_on_disconnect" >\n' +
    '                    <input type="image" alt="Game Mode"',
    '<div class="noVNC_button_div noVNC_hidden noVNC_hide_on_disconnect" style="display:none">\n' +
    '                    <input type="image" alt="Game Mode"');

if (webrtc === 'false') {
    edit('app/ui.js', 'connect without WebRTC',
        "UI.rfb.enableWebRTC = UI.getSetting('enable_webrtc');",
        'UI.rfb.enableWebRTC = false;');
    edit('app/ui_screen.js', 'secondary screens without WebRTC',
        "UI.rfb.enableWebRTC = UI.getSetting('enable_webrtc', true, false);",
        'UI.rfb.enableWebRTC = false;');
    edit('app/ui.js', 'enable_webrtc message keeps it off',
        "UI.forceSetting('enable_webrtc', true, false);",
        "UI.forceSetting('enable_webrtc', false, true);");
    edit('app/ui.js', 'toggleWebRTC never enables it',
        'UI.rfb.enableWebRTC = true;',
        'UI.rfb.enableWebRTC = false;');
    edit('index.html', 'hide the WebRTC setting',
        '<label class="switch"><input id="noVNC_setting_enable_webrtc" type="checkbox" />',
        '<label class="switch" style="display:none"><input id="noVNC_setting_enable_webrtc" type="checkbox" disabled />');
}

// Helios edits to kclient, applied to the unpacked tree: no file server, audio on by default,
// listen on the unix socket $HELIOS_KCLIENT_SOCKET only (no TCP port: nginx is the single entry
// point), microphone FIFO under /opt/helios.
// Usage: node kclient-patch.js <tree>. Every edit must match exactly once.
'use strict';
const fs = require('fs');
const path = require('path');

const tree = process.argv[2];
if (!tree) {
    console.error('usage: node kclient-patch.js <tree>');
    process.exit(2);
}

function fail(message) {
    console.error(`helios: error: ${message}`);
    process.exit(1);
}

function edit(file, what, from, to) {
    const full = path.join(tree, file);
    const text = fs.readFileSync(full, 'utf8');
    const count = text.split(from).length - 1;
    if (count !== 1) fail(`${file}: edit "${what}" matched ${count} times (expected 1)`);
    fs.writeFileSync(full, text.replace(from, to));
    console.error(`helios: ${file}: ${what}`);
}

// Cut the text between two unique markers (start kept out, end kept in).
function cut(file, what, start, end) {
    const full = path.join(tree, file);
    const text = fs.readFileSync(full, 'utf8');
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a < 0 || b < a || text.indexOf(start, a + 1) >= 0 || text.indexOf(end, b + 1) >= 0) {
        fail(`${file}: cut "${what}" markers not found exactly once in order`);
    }
    fs.writeFileSync(full, text.slice(0, a) + text.slice(b));
    console.error(`helios: ${file}: ${what}`);
}

cut('index.js', 'remove the file server', '//// Web File Browser ////', '//// PCM Audio Wrapper ////');
edit('index.js', 'microphone FIFO path',
    "fsw.writeFile('/defaults/mic.sock', buffer)",
    "fsw.writeFile(process.env.HELIOS_MIC_FIFO || '/opt/helios/mic.sock', buffer)");
edit('index.js', 'listen on a unix socket only', 'http.listen(6900);',
    "if (!process.env.HELIOS_KCLIENT_SOCKET) {\n" +
    "  console.error('[helios] HELIOS_KCLIENT_SOCKET is not set');\n" +
    "  process.exit(2);\n" +
    "}\n" +
    "http.listen(process.env.HELIOS_KCLIENT_SOCKET);");

cut('public/index.html', 'remove the file browser panel', '<!--File Browser-->', '<!--Main logic-->');
edit('public/index.html', 'remove the file manager button',
    '<img class="icons" id="fileButton" title="File Manager" src="public/css/files.svg" onclick="toggle(\'#files\')"/>',
    '');
edit('public/index.html', 'enable audio when the desktop loads',
    '<iframe class="vnc" src=', '<iframe class="vnc" onload="audio()" src=');

for (const gone of ['public/filebrowser.html', 'public/js/filebrowser.js', 'public/css/filebrowser.css', 'public/css/files.svg']) {
    fs.rmSync(path.join(tree, gone), { force: true });
}
const index = fs.readFileSync(path.join(tree, 'index.js'), 'utf8');
if (/files\/socket\.io|getFiles|uploadFile/.test(index)) fail('index.js: file server code is still present');

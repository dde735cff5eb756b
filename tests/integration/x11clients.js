'use strict';
// Helios integration test helper (tests/integration/x11windows.py); run with the image's node.
// Lists the window manager's clients (_NET_CLIENT_LIST) as "window pid class" lines.
const fs = require('fs');
const net = require('net');
const display = (process.env.DISPLAY || ':1').replace(/^[^:]*:/, '').split('.')[0];

function cookie() {
  const path = process.env.XAUTHORITY || `${process.env.HOME}/.Xauthority`;
  const data = fs.readFileSync(path);
  let at = 0;
  const field = () => { const n = data.readUInt16BE(at + 0); const v = data.subarray(at + 2, at + 2 + n); at += 2 + n; return v; };
  while (at < data.length) {
    at += 2; // family
    field(); // address
    const number = field().toString();
    const name = field().toString();
    const value = field();
    if (number === display && name === 'MIT-MAGIC-COOKIE-1') return value;
  }
  return Buffer.alloc(0);
}

const pad = (n) => (4 - (n % 4)) % 4;
const sock = net.createConnection(`/tmp/.X11-unix/X${display}`);
let buf = Buffer.alloc(0);
const waiters = [];
let root = 0;
sock.on('data', (chunk) => { buf = Buffer.concat([buf, chunk]); pump(); });
sock.on('error', (e) => { console.error(e.message); process.exit(2); });

function need(n, cb) { waiters.push({ n, cb }); pump(); }
function pump() {
  while (waiters.length && buf.length >= waiters[0].n) {
    const { n, cb } = waiters.shift();
    const head = buf.subarray(0, n);
    buf = buf.subarray(n);
    cb(head);
  }
}
// One reply (skipping events); errors end the program.
function reply(cb) {
  need(32, (head) => {
    if (head[0] === 0) { console.error(`X error ${head[1]}`); process.exit(3); }
    if (head[0] !== 1) return reply(cb); // an event
    const extra = head.readUInt32LE(4) * 4;
    need(extra, (body) => cb(head, body));
  });
}
function request(parts) { sock.write(Buffer.concat(parts)); }
function u32(...v) { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeUInt32LE(x >>> 0, 4 * i)); return b; }
function internAtom(name, cb) {
  const n = Buffer.from(name);
  const h = Buffer.alloc(8);
  h.writeUInt8(16, 0); h.writeUInt8(0, 1); h.writeUInt16LE(2 + (n.length + pad(n.length)) / 4, 2);
  h.writeUInt16LE(n.length, 4);
  request([h, n, Buffer.alloc(pad(n.length))]);
  reply((head) => cb(head.readUInt32LE(8)));
}
function getProperty(win, atom, cb) {
  const h = Buffer.alloc(4);
  h.writeUInt8(20, 0); h.writeUInt8(0, 1); h.writeUInt16LE(6, 2);
  request([h, u32(win, atom, 0, 0, 4096)]);
  reply((head, body) => {
    const format = head[1];
    const count = head.readUInt32LE(16);
    cb(body.subarray(0, count * (format / 8)), format);
  });
}

const auth = cookie();
const name = Buffer.from(auth.length ? 'MIT-MAGIC-COOKIE-1' : '');
const setup = Buffer.alloc(12);
setup.write('l', 0); setup.writeUInt16LE(11, 2); setup.writeUInt16LE(0, 4);
setup.writeUInt16LE(name.length, 6); setup.writeUInt16LE(auth.length, 8);
sock.write(Buffer.concat([setup, name, Buffer.alloc(pad(name.length)), auth, Buffer.alloc(pad(auth.length))]));
need(8, (head) => {
  if (head[0] !== 1) { console.error('X connection refused'); process.exit(4); }
  need(head.readUInt16LE(6) * 4, (body) => {
    const vendor = body.readUInt16LE(16);
    const formats = body[21];
    root = body.readUInt32LE(32 + vendor + pad(vendor) + 8 * formats);
    list();
  });
});

function list() {
  internAtom('_NET_CLIENT_LIST', (clients) => internAtom('_NET_WM_PID', (pidAtom) => internAtom('WM_CLASS', (classAtom) => {
    getProperty(root, clients, (data) => {
      const wins = [];
      for (let i = 0; i + 4 <= data.length; i += 4) wins.push(data.readUInt32LE(i));
      const lines = [];
      const next = () => {
        if (!wins.length) { console.log(lines.join('\n')); sock.end(); return; }
        const w = wins.shift();
        getProperty(w, pidAtom, (pid) => getProperty(w, classAtom, (cls) => {
          const parts = cls.toString().split('\0');
          lines.push(`${w} ${pid.length >= 4 ? pid.readUInt32LE(0) : 0} ${parts[1] || parts[0] || '?'}`);
          next();
        }));
      };
      next();
    });
  })));
}

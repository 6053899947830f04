// Test stand-in for Frappe's realtime server: node's http and net modules only, no npm packages.
//
// It reads sites/common_site_config.json, listens on socketio_port (default 9000), keeps a subscription to
// the "events" channel of redis_socketio (falling back to redis_queue) and reconnects when Redis goes away.
// The Redis URL may carry credentials (redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port,
// percent-encoded): every connection sends AUTH [USER] PASSWORD before anything else, and a rejected AUTH (or a
// server that demands one) ends the process with exit code 1, as node-redis's failed connect() does in Frappe.
// The URL is only ever logged masked (redis://:***@host:port).
// It answers the Engine.IO v4 polling handshake, GET /socket.io/?EIO=4&transport=polling, with an open
// packet; sessions, websocket upgrades and Socket.IO namespaces are not emulated.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");

const sitesPath = path.resolve(__dirname, "..", "..", "sites");

function log(message) {
    console.log(`${new Date().toISOString()} ${message}`);
}

function logError(message) {
    console.error(`${new Date().toISOString()} ${message}`);
}

function readConfig() {
    const file = path.join(sitesPath, "common_site_config.json");
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        log(`cannot read ${file}: ${err.message}`);
        return {};
    }
}

const conf = readConfig();
const port = parseInt(conf.socketio_port, 10) || 9000;
const redisUrl = conf.redis_socketio || conf.redis_queue || "redis://127.0.0.1:12000";

// --- Redis URL: endpoint, credentials, masked form ------------------------------------------------------

function decode(text) {
    try {
        return decodeURIComponent(text);
    } catch (err) {
        return text; // not valid percent-encoding: taken literally, as Python's unquote() does
    }
}

function parseRedisUrl(text) {
    let url;
    try {
        url = new URL(text);
    } catch (err) {
        return null;
    }
    if (url.protocol !== "redis:") {
        return null;
    }
    const username = decode(url.username);
    const password = decode(url.password);
    // A lone user name (redis://SECRET@host) is masked too: it is likely a misplaced password.
    let userinfo = "";
    if (url.password) {
        userinfo = `${url.username}:***@`;
    } else if (url.username) {
        userinfo = "***@";
    }
    return {
        host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1",
        port: parseInt(url.port, 10) || 6379,
        username,
        password,
        masked: `redis://${userinfo}${url.host}${url.pathname}`,
        secrets: (url.password ? [url.password, password] : [url.username, username]).filter((value) => value.length > 0),
    };
}

const redisTarget = parseRedisUrl(redisUrl);

// Never print a credential, even inside a message that came from elsewhere (e.g. an error reply).
function scrub(text) {
    let result = String(text);
    for (const secret of redisTarget ? redisTarget.secrets : []) {
        result = result.split(secret).join("***");
    }
    return result;
}

// --- RESP: commands and an incremental reply parser -----------------------------------------------------

function command(...args) {
    return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
}

// Parses one reply starting at offset; returns [value, nextOffset] or null when more data is needed.
// Errors are returned as { error: "..." } values.
function parseReply(buffer, offset) {
    if (offset >= buffer.length) {
        return null;
    }
    const lineEnd = buffer.indexOf("\r\n", offset);
    if (lineEnd === -1) {
        return null;
    }
    const type = String.fromCharCode(buffer[offset]);
    const line = buffer.toString("utf8", offset + 1, lineEnd);
    const next = lineEnd + 2;
    switch (type) {
        case "+":
            return [line, next];
        case "-":
            return [{ error: line }, next];
        case ":":
            return [parseInt(line, 10), next];
        case "$": {
            const length = parseInt(line, 10);
            if (length < 0) {
                return [null, next];
            }
            if (buffer.length < next + length + 2) {
                return null;
            }
            return [buffer.toString("utf8", next, next + length), next + length + 2];
        }
        case "*": {
            const count = parseInt(line, 10);
            const items = [];
            let position = next;
            for (let i = 0; i < count; i++) {
                const item = parseReply(buffer, position);
                if (item === null) {
                    return null;
                }
                items.push(item[0]);
                position = item[1];
            }
            return [count < 0 ? null : items, position];
        }
        default:
            throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
    }
}

// --- Redis subscription -----------------------------------------------------------------------------------

const AUTH_ERRORS = /^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR (invalid password|AUTH|Client sent AUTH)/i;

let redisConnected = false;

function authFailed(reason) {
    logError(`redis authentication failed for ${redisTarget.masked}: ${scrub(reason)}`);
    process.exit(1);
}

function connectRedis() {
    const socket = net.createConnection({ host: redisTarget.host, port: redisTarget.port });
    const pending = []; // replies still expected, in order: "auth", "subscribe"
    let buffer = Buffer.alloc(0);
    socket.setKeepAlive(true, 10000);

    socket.on("connect", () => {
        redisConnected = true;
        log(`connected to ${redisTarget.masked}`);
        if (redisTarget.password || redisTarget.username) {
            // AUTH first, SUBSCRIBE only once it succeeded.
            const args = redisTarget.username ? [redisTarget.username, redisTarget.password] : [redisTarget.password];
            pending.push("auth");
            socket.write(command("AUTH", ...args));
        } else {
            pending.push("subscribe");
            socket.write(command("SUBSCRIBE", "events"));
        }
    });

    function handle(reply) {
        const expected = pending.shift();
        if (reply && reply.error !== undefined) {
            if (AUTH_ERRORS.test(reply.error)) {
                authFailed(reply.error);
            }
            logError(`redis error: ${scrub(reply.error)}`);
            return;
        }
        if (expected === "auth") {
            log("authenticated, subscribing to events");
            pending.push("subscribe");
            socket.write(command("SUBSCRIBE", "events"));
        } else if (Array.isArray(reply) && reply[0] === "subscribe") {
            log(`subscribed to ${reply[1]}`);
        } else if (Array.isArray(reply) && reply[0] === "message") {
            if (expected !== undefined) {
                pending.unshift(expected);
            }
            log(`event received on ${reply[1]} (${Buffer.byteLength(String(reply[2]))} bytes)`);
        }
    }

    socket.on("data", (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        let offset = 0;
        try {
            for (let parsed = parseReply(buffer, offset); parsed !== null; parsed = parseReply(buffer, offset)) {
                offset = parsed[1];
                handle(parsed[0]);
            }
        } catch (err) {
            logError(`redis protocol error: ${scrub(err.message)}; reconnecting`);
            socket.destroy();
            return;
        }
        buffer = buffer.subarray(offset);
    });
    socket.on("error", (err) => logError(`redis connection error: ${scrub(err.message)}`));
    socket.on("close", () => {
        if (redisConnected) {
            log("redis connection closed; reconnecting");
        }
        redisConnected = false;
        setTimeout(connectRedis, 1000);
    });
}

// --- HTTP: the Engine.IO handshake -----------------------------------------------------------------------

function sendJson(res, status, body) {
    const data = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
    res.end(data);
}

function handshake(req, res) {
    const url = new URL(req.url, "http://stand-in");
    const eio = url.searchParams.get("EIO");
    const transport = url.searchParams.get("transport");
    if (eio !== "4") {
        return sendJson(res, 400, { code: 5, message: "Unsupported protocol version" });
    }
    if (transport !== "polling" && transport !== "websocket") {
        return sendJson(res, 400, { code: 0, message: "Transport unknown" });
    }
    if (transport === "websocket" || url.searchParams.has("sid")) {
        // Upgrades and established sessions are outside what the stand-in emulates.
        return sendJson(res, 400, { code: 1, message: "Session ID unknown" });
    }
    if (req.method !== "GET") {
        return sendJson(res, 400, { code: 2, message: "Bad handshake method" });
    }
    const sid = crypto.randomBytes(15).toString("base64").replace(/\//g, "_").replace(/\+/g, "-");
    const body =
        "0" + JSON.stringify({ sid, upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 });
    res.writeHead(200, {
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Length": Buffer.byteLength(body),
        "Cache-Control": "no-store",
    });
    res.end(body);
}

const server = http.createServer((req, res) => {
    const pathname = req.url.split("?", 1)[0];
    if (pathname === "/socket.io/" || pathname === "/socket.io") {
        return handshake(req, res);
    }
    return sendJson(res, 404, { message: "Not Found" });
});

function shutdown() {
    log("shutting down");
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
}

process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

if (redisTarget === null) {
    logError("redis_socketio/redis_queue in common_site_config.json is not a redis:// URL");
    process.exit(1);
}

server.listen(port, "0.0.0.0", () => log(`Realtime service listening on: ws://0.0.0.0:${port}`));
connectRedis();

// Test stand-in for Frappe's realtime server: node's http and net modules only, no npm packages.
//
// It reads sites/common_site_config.json, listens on socketio_port (default 9000), keeps a subscription to
// the "events" channel of redis_socketio (falling back to redis_queue) and reconnects when Redis goes away.
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

// --- Redis subscription (RESP over a plain TCP socket) --------------------------------------------------

function command(...args) {
	return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
}

let redisConnected = false;

function connectRedis() {
	const url = new URL(redisUrl);
	const socket = net.createConnection({ host: url.hostname, port: parseInt(url.port, 10) || 6379 });
	socket.setKeepAlive(true, 10000);
	socket.on("connect", () => {
		redisConnected = true;
		log(`connected to ${url.host}, subscribing to events`);
		if (url.password) {
			socket.write(command("AUTH", decodeURIComponent(url.password)));
		}
		socket.write(command("SUBSCRIBE", "events"));
	});
	socket.on("data", (chunk) => {
		const text = chunk.toString("utf8");
		if (text.startsWith("-")) {
			log(`redis error: ${text.trim()}`);
		} else if (text.includes("message")) {
			log(`event received (${chunk.length} bytes)`);
		}
	});
	socket.on("error", (err) => log(`redis connection error: ${err.message}`));
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

server.listen(port, "0.0.0.0", () => log(`Realtime service listening on: ws://0.0.0.0:${port}`));
connectRedis();

// bgmux for OpenCode: tells a session when a bgmux task it started ends.
//
// Written by `bgmux setup opencode` (re-run it to update this file; edits
// are overwritten). Plain ES module, no dependencies, no build step.
//
// How it works:
//   - tool.execute.after of bgmux's MCP tools start_task and restart_task
//     records the task (id, run, restart policy) against the session that
//     started it, in a small file under bgmux's state dir
//     ($STATE/opencode/tasks/<id>.json), so an OpenCode restart keeps it.
//     A session that sees the end itself (wait_task, get_task, stop_task,
//     remove_task) is not told again.
//   - One `bgmux events --follow --json --all` per OpenCode process (per
//     bgmux state dir) says when something happened to a recorded task.
//   - The events of a session are then claimed through its own events
//     reader (`bgmux events --new --reader opencode-<session> --all`): a
//     claimed event is never given again, to this process or another, so
//     an end is reported once, also across restarts (a restarted plugin
//     catches up on what it missed through the same reader).
//   - While the session runs a turn the message waits (at most a minute)
//     until it is idle, and is dropped if the session saw the end itself.
//   - The end of a task's run is exited, killed or lost; with a restart
//     policy an exit followed by `restarting` is not an end (the next
//     run's end will be), one followed by `gave_up` is, and so is one
//     followed by `stopped`. One compact message is posted into the
//     session (client.session.promptAsync), which starts a model turn.

import { execFile, spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"

const BGMUX = "bgmux" // bgmux setup: the bgmux binary

// How long an exit of a task with a restart policy may wait for the event
// that tells whether it restarts (restarting, gave_up, stopped: logged by
// its supervisor right after the exit) before it is reported anyway.
const SETTLE_RETRY_MS = 1000
const SETTLE_GIVE_UP_MS = 15000
const PARK_MS = 60000
const TAIL_LINES = 5
const LINE_MAX = 200

const SHARED = Symbol.for("bgmux.opencode.watchers")
const ENDED = new Set(["exited", "killed", "lost"])

// One watcher per bgmux environment (state dir) per OpenCode process, shared
// by every instance of this plugin (a project and a global copy, several
// project directories in one `opencode serve`).
function watchers() {
  if (!globalThis[SHARED]) {
    const all = new Map()
    globalThis[SHARED] = all
    process.on("exit", () => {
      for (const w of all.values()) w.close()
    })
  }
  return globalThis[SHARED]
}

function stateDir(env) {
  if (env.BGMUX_STATE_DIR) return env.BGMUX_STATE_DIR
  const base = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), ".local", "state")
  return path.join(base, "bgmux")
}

// readerName is the events reader of a session: letters, digits, '_' and
// '-', at most 64 bytes.
function readerName(session) {
  return ("opencode-" + String(session).replace(/[^A-Za-z0-9_-]/g, "-")).slice(0, 64)
}

function short(line) {
  line = String(line)
  return line.length > LINE_MAX ? line.slice(0, LINE_MAX - 3) + "..." : line
}

// resultDoc is the JSON document of an MCP tool result: structuredContent,
// else the JSON after the summary of the text content.
function resultDoc(result) {
  if (!result) return null
  if (result.structuredContent && typeof result.structuredContent === "object") return result.structuredContent
  for (const c of result.content || []) {
    if (c.type !== "text" || typeof c.text !== "string") continue
    const i = c.text.indexOf("{")
    if (i < 0) continue
    try {
      return JSON.parse(c.text.slice(i))
    } catch {}
  }
  return null
}

class Watcher {
  constructor(bin, env, log) {
    this.bin = bin
    this.env = env
    this.log = log
    this.dir = path.join(stateDir(env), "opencode", "tasks")
    this.tasks = new Map() // id -> {id, session, directory, name, run, restart, pending, waiting, since}
    this.clients = new Map() // directory -> client
    this.chains = new Map() // session -> promise (claims of a session run one at a time)
    this.timers = new Map() // session -> timeout of a scheduled claim
    this.busy = new Set() // sessions running a turn now
    this.child = null
    this.closed = false
    this.backoff = 1000
    this.load()
  }

  // load reads the recorded tasks of earlier OpenCode processes.
  load() {
    let names = []
    try {
      names = fs.readdirSync(this.dir)
    } catch {
      return
    }
    for (const n of names) {
      if (!/^bg-[A-Za-z0-9]+\.json$/.test(n)) continue
      try {
        const t = JSON.parse(fs.readFileSync(path.join(this.dir, n), "utf8"))
        if (t && t.id && t.session) this.tasks.set(t.id, t)
      } catch {}
    }
  }

  save(t) {
    const rec = { id: t.id, session: t.session, directory: t.directory, name: t.name, run: t.run,
      restart: t.restart, pending: t.pending || null, waiting: !!t.waiting, last: t.last || null, since: t.since || null, parked: t.parked || null }
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      const p = path.join(this.dir, t.id + ".json")
      const tmp = p + ".tmp-" + process.pid
      fs.writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600 })
      fs.renameSync(tmp, p)
    } catch (err) {
      this.log("warn", `cannot record task ${t.id}: ${err.message}`)
    }
  }

  forget(t) {
    this.tasks.delete(t.id)
    try {
      fs.unlinkSync(path.join(this.dir, t.id + ".json"))
    } catch {}
  }

  // attach makes client the way into the sessions of directory, and
  // catches up on the sessions recorded there.
  attach(directory, client) {
    this.clients.set(directory, client)
    const sessions = new Set()
    for (const t of this.tasks.values()) if (t.directory === directory) sessions.add(t.session)
    for (const s of sessions) {
      this.flush(s, false)
      this.schedule(s, 0)
    }
    if (sessions.size) this.follow()
  }

  // register records a task started (or restarted) by session.
  register(session, directory, doc) {
    const task = doc && (doc.task && doc.task.id ? doc.task : doc)
    if (!task || typeof task.id !== "string" || !task.id.startsWith("bg-")) return
    const t = { id: task.id, session, directory, name: task.name || task.id, run: task.runs || 1,
      restart: task.restart || "never", pending: null, waiting: false, since: null }
    this.tasks.set(t.id, t)
    this.save(t)
    this.follow()
    // Its end may be in the log already (a command that failed at once).
    this.schedule(session, 0)
  }

  run(args) {
    return new Promise((resolve, reject) => {
      execFile(this.bin, args, { env: this.env, timeout: 30000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err && !stdout) reject(new Error(`${this.bin} ${args.join(" ")}: ${(stderr || err.message).trim()}`))
        else resolve(stdout)
      })
    })
  }

  // follow keeps one `bgmux events --follow --json --all` running.
  follow() {
    if (this.child || this.closed) return
    let child
    try {
      child = spawn(this.bin, ["events", "--follow", "--json", "--all", "--since", "1s"],
        { env: this.env, stdio: ["ignore", "pipe", "pipe"] })
    } catch (err) {
      this.log("error", `cannot run ${this.bin} events --follow: ${err.message}`)
      return
    }
    this.child = child
    let buf = ""
    let errText = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk) => {
      this.backoff = 1000
      buf += chunk
      let i
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        let e
        try {
          e = JSON.parse(line)
        } catch {
          continue
        }
        const t = e && this.tasks.get(e.id)
        if (t) this.schedule(t.session, 50)
      }
    })
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk) => {
      errText = (errText + chunk).slice(-2000)
    })
    const gone = (why) => {
      if (this.child !== child) return
      this.child = null
      if (this.closed) return
      this.log("warn", `${this.bin} events --follow ended (${why}) ${errText.trim()}; starting it again in ${this.backoff} ms`)
      const delay = this.backoff
      this.backoff = Math.min(this.backoff * 2, 30000)
      const timer = setTimeout(() => {
        this.follow()
        // What happened meanwhile.
        for (const s of new Set([...this.tasks.values()].map((t) => t.session))) this.schedule(s, 0)
      }, delay)
      timer.unref?.()
    }
    child.on("error", (err) => gone(err.message))
    child.on("exit", (code, sig) => gone(sig || `exit status ${code}`))
    child.unref?.()
  }

  close() {
    this.closed = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    if (this.child) {
      const c = this.child
      this.child = null
      try {
        c.kill("SIGTERM")
      } catch {}
    }
  }

  // schedule claims session's events after delay ms (once, however often
  // it is asked meanwhile).
  schedule(session, delay) {
    if (this.closed || this.timers.has(session)) return
    const timer = setTimeout(() => {
      this.timers.delete(session)
      const prev = this.chains.get(session) || Promise.resolve()
      const next = prev.then(() => this.claim(session)).catch((err) => {
        this.log("warn", `cannot read the events of session ${session}: ${err.message}`)
        this.schedule(session, 5000)
      })
      this.chains.set(session, next)
    }, delay)
    timer.unref?.()
    this.timers.set(session, timer)
  }

  // status follows whether session is running a turn.
  status(session, busy) {
    if (busy) this.busy.add(session)
    else if (this.busy.delete(session)) this.flush(session, false)
  }

  // seen forgets a task whose end (of its current run) the session saw
  // in a tool result, or that it removed: it needs no message.
  seen(session, task, removed) {
    const t = task && this.tasks.get(task.id)
    if (!t || t.session !== session) return
    if (removed || (task.runs || 0) >= t.run) this.forget(t)
  }

  mine(session) {
    return [...this.tasks.values()].filter((t) => t.session === session)
  }

  // claim takes the session's new events and reports the ends among them.
  async claim(session) {
    if (!this.mine(session).length) return
    const out = await this.run(["events", "--new", "--reader", readerName(session), "--all", "--json"])
    const doc = JSON.parse(out)
    for (const e of doc.events || []) {
      const t = this.tasks.get(e.id)
      if (!t || t.session !== session || t.parked || (e.run || 0) < t.run) continue
      await this.apply(t, e)
    }
    for (const t of this.mine(session)) {
      if (!t.pending || t.parked) continue
      if (this.final(t) || Date.now() - (t.since || 0) > SETTLE_GIVE_UP_MS) {
        await this.report(t, t.pending, "")
      } else {
        this.save(t)
        this.schedule(session, SETTLE_RETRY_MS)
      }
    }
  }

  // final reports whether the pending exit of t ends the task: no restart
  // policy would run it again.
  final(t) {
    if (t.restart === "never" || !t.restart) return true
    return t.restart === "on-failure" && t.pending.exit_status === 0
  }

  async apply(t, e) {
    switch (e.event) {
      case "started":
        t.pending = null
        t.waiting = false
        t.run = Math.max(t.run, e.run || 0)
        this.save(t)
        return
      case "exited":
      case "killed":
        t.pending = e
        t.since = Date.now()
        t.waiting = false
        return
      case "restarting":
        // Not an end: the next run's will be.
        if (t.pending) t.last = t.pending.message
        t.pending = null
        t.waiting = true
        this.save(t)
        return
      case "gave_up":
        if (t.pending) return this.report(t, t.pending, e.message)
        return this.report(t, e, "")
      case "stopped":
        if (t.pending) return this.report(t, t.pending, "")
        if (t.waiting) {
          const what = "was stopped while waiting to restart" + (t.last ? ` (its last run ${t.last})` : "")
          return this.report(t, { ...e, message: what }, "")
        }
        return
      case "lost":
        return this.report(t, e, "")
    }
  }

  // report posts one message about the end of t (event e) into its session.
  async report(t, e, extra) {
    t.pending = null
    const id = t.id
    const name = e.name || t.name
    let what = e.message || e.event
    if (e.event === "lost" && e.lost_reason && !what.includes(e.lost_reason)) what += ` (${e.lost_reason})`
    let text = `bgmux: task ${name} (${id}) ${what}.`
    if (extra) text += ` ${extra.charAt(0).toUpperCase()}${extra.slice(1)}.`
    try {
      // The log holds only the task's output (the supervisor's trailer is
      // not written to it): its last lines are the task's.
      const logs = JSON.parse(await this.run(["logs", id, "--tail", String(TAIL_LINES), "--json"]))
      const lines = (logs.lines || []).filter((l) => typeof l === "string")
      if (lines.length) text += "\nLast lines:\n" + lines.map((l) => "  " + short(l)).join("\n")
      else text += " It printed nothing."
    } catch {}
    text += `\nRead more: read_output {"task":"${id}"} (or \`bgmux logs ${id}\`)`
    try {
      const st = JSON.parse(await this.run(["status", id, "--json"]))
      if (st.tmux && st.tmux.attach) text += `; attach: ${st.tmux.attach}`
    } catch {}
    t.parked = text
    if (this.busy.has(t.session)) {
      // Told when the session is idle again, unless it sees the end itself
      // meanwhile (wait_task, get_task...); at the latest after PARK_MS.
      this.save(t)
      const timer = setTimeout(() => this.flush(t.session, true), PARK_MS)
      timer.unref?.()
      return
    }
    await this.post(t)
  }

  // flush posts the parked messages of session (once it is idle, or when
  // force says they waited long enough).
  async flush(session, force) {
    if (this.busy.has(session) && !force) return
    for (const t of this.mine(session)) if (t.parked) await this.post(t)
  }

  async post(t) {
    const text = t.parked
    const id = t.id
    this.forget(t)
    const client = this.clients.get(t.directory) || [...this.clients.values()][0]
    if (!client) return
    for (let attempt = 0; ; attempt++) {
      try {
        await client.session.promptAsync({ path: { id: t.session }, body: { parts: [{ type: "text", text }] } })
        this.log("info", `told session ${t.session}: ${text.split("\n")[0]}`)
        return
      } catch (err) {
        if (attempt >= 2) {
          this.log("error", `cannot tell session ${t.session} that task ${id} ended: ${err.message}`)
          return
        }
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)))
      }
    }
  }
}

function bgmuxServers(config) {
  const names = new Set(["bgmux"])
  const mcp = (config && config.mcp) || {}
  for (const [name, entry] of Object.entries(mcp)) {
    const cmd = (entry && entry.command) || []
    if (cmd.some((a) => /^bgmux(-mcp)?$/.test(path.basename(String(a))))) names.add(name)
  }
  return names
}

export const BgmuxPlugin = async ({ client, directory }) => {
  let watcher = null
  let servers = new Set(["bgmux"])
  let cfg = null
  const log = (level, message) => {
    client.app.log({ body: { service: "bgmux", level, message } }).catch(() => {})
  }
  const start = (config) => {
    if (watcher) return watcher
    // The bgmux the MCP server runs, and its environment (a state dir or
    // socket set for the server applies to the plugin's calls too).
    const entry = (config && config.mcp && config.mcp.bgmux) || {}
    const env = { ...process.env, ...(entry.environment || {}) }
    let bin = BGMUX
    if (path.isAbsolute(bin) && !fs.existsSync(bin)) bin = "bgmux"
    const all = watchers()
    const key = JSON.stringify([bin, stateDir(env), env.BGMUX_SOCKET || ""])
    watcher = all.get(key)
    if (!watcher) {
      watcher = new Watcher(bin, env, log)
      all.set(key, watcher)
    }
    watcher.attach(directory, client)
    return watcher
  }
  return {
    config: async (config) => {
      cfg = config
      servers = bgmuxServers(config)
      start(config)
    },
    event: async ({ event }) => {
      const p = (event && event.properties) || {}
      if (!watcher || !p.sessionID) return
      if (event.type === "session.status" && p.status) watcher.status(p.sessionID, p.status.type !== "idle")
      else if (event.type === "session.idle") watcher.status(p.sessionID, false)
    },
    "tool.execute.after": async (input, output) => {
      const tool = String(input.tool || "")
      const i = tool.lastIndexOf("_", tool.length - "_task".length - 1)
      if (i < 0 || !servers.has(tool.slice(0, i))) return
      const doc = resultDoc(output)
      if (!doc || typeof doc !== "object") return
      const failed = !!output.isError
      const w = start(cfg)
      switch (tool.slice(i + 1)) {
        case "start_task":
          // A wait_for that timed out is an error result, but the task runs.
          if (!failed || (doc.timeout === true && doc.task)) w.register(input.sessionID, directory, doc)
          return
        case "restart_task":
          if (!failed) w.register(input.sessionID, directory, doc)
          return
        case "wait_task":
          if (doc.ended === true && doc.task) w.seen(input.sessionID, doc.task, false)
          return
        case "get_task":
        case "stop_task":
          if (!failed && ENDED.has(doc.state) && !doc.next_restart_at) w.seen(input.sessionID, doc, false)
          return
        case "remove_task":
          for (const t of doc.removed || []) w.seen(input.sessionID, t, true)
          return
      }
    },
  }
}

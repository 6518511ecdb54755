// Sync through a transport written in Kotlin (java.net.http) against the real
// `fraudshield-server` binary on 127.0.0.1, port 0: releases published by two analysts and a
// publisher reach the shield, a citizen report is uploaded, lookups from several JVM threads
// keep answering while a sync swaps the list, and the Call Directory sees the change.
package org.fraudshield.test

import org.fraudshield.core.Action
import org.fraudshield.core.CallDirectoryUpdate
import org.fraudshield.core.Category
import org.fraudshield.core.CitizenReport
import org.fraudshield.core.Direction
import org.fraudshield.core.Freshness
import org.fraudshield.core.Kind
import org.fraudshield.core.ReportState
import org.fraudshield.core.Source
import org.fraudshield.core.UpdatePath
import org.fraudshield.ffi.Shield
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean

/** The real server: `init`, tokens, and `serve` on a free loopback port. Every wait is bounded. */
class ServerProcess(private val data: File) : AutoCloseable {
    private var process: Process? = null
    lateinit var url: String
        private set

    fun admin(vararg args: String): String {
        val p = ProcessBuilder(listOf(Fixtures.server, "--data-dir", data.path) + args)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .apply { environment()["FRAUDSHIELD_LOG"] = "warn" }
            .start()
        val out = p.inputStream.bufferedReader().readText()
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly()
            throw AssertionFailed("fraudshield-server ${args.first()} did not finish")
        }
        if (p.exitValue() != 0) throw AssertionFailed("fraudshield-server ${args.joinToString(" ")} failed")
        return out
    }

    fun token(role: String, name: String) = admin("token", "create", "--role", role, "--name", name).trim()

    fun start() {
        val p = ProcessBuilder(Fixtures.server, "--data-dir", data.path, "serve", "--listen", "127.0.0.1:0", "--single-reviewer")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .apply { environment()["FRAUDSHIELD_LOG"] = "warn" }
            .start()
        process = p
        val firstLine = LinkedBlockingQueue<String>()
        Thread {
            val lines = p.inputStream.bufferedReader()
            lines.readLine()?.let { firstLine.put(it) }
            lines.forEachLine { }
        }.apply { isDaemon = true }.start()
        // The server prints "listening on http://127.0.0.1:PORT/" once it accepts connections.
        val line = firstLine.poll(120, TimeUnit.SECONDS) ?: throw AssertionFailed("server did not report its address")
        url = line.removePrefix("listening on ")
    }

    override fun close() {
        process?.let {
            it.destroy()
            if (!it.waitFor(60, TimeUnit.SECONDS)) it.destroyForcibly()
        }
    }
}

/** The analysts' and publisher's side of the API, as plain JSON over java.net.http. */
class Api(private val url: String) {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build()

    fun post(path: String, token: String, json: String): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(url + path.removePrefix("/")))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer $token")
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build()
        val r = http.send(request, HttpResponse.BodyHandlers.ofString())
        return r.statusCode() to r.body()
    }

    fun get(path: String): Pair<Int, String> {
        val request = HttpRequest.newBuilder(URI.create(url + path.removePrefix("/"))).timeout(Duration.ofSeconds(60)).GET().build()
        val r = http.send(request, HttpResponse.BodyHandlers.ofString())
        return r.statusCode() to r.body()
    }
}

/** The number value of a top-level JSON field (enough for the few answers read here). */
private fun jsonNumber(body: String, field: String): Long =
    Regex("\"$field\"\\s*:\\s*(\\d+)").find(body)?.groupValues?.get(1)?.toLong()
        ?: throw AssertionFailed("no $field in $body")

fun syncTests() = Harness.suite("sync against the real server") {
    val data = Fixtures.tempDir("server")
    ServerProcess(File(data, "server")).use { server ->
        var alice = ""
        var bob = ""
        var publisher = ""
        var shield: Shield? = null
        val transport = JdkTransport()
        val number = "+86 138 0013 8000"

        Harness.test("init, tokens, serve on a free loopback port; the shield syncs the first release") {
            server.admin("init")
            val reporter = server.token("reporter", "police-app")
            alice = server.token("analyst", "alice")
            bob = server.token("analyst", "bob")
            publisher = server.token("publisher", "pat")
            server.start()
            val trust = File(data, "server/keys/trust.txt").readText()
            val config = Fixtures.config().copy(serverUrl = server.url, trustedKeys = trust, reporterToken = reporter)
            val s = Shield.open(Fixtures.tempDir("phone").path, config)
            shield = s
            val summary = s.sync(transport)
            expectEq(1uL, summary.list.release, "release")
            expect(s.status().freshness is Freshness.Fresh) { "freshness ${s.status().freshness}" }
            expectEq("GET /v1/manifest", transport.sent.first(), "first request")
        }

        fun publish(proposalJson: String, approver: String): Long {
            val (st, p) = Api(server.url).post("/v1/proposals", alice, proposalJson)
            expectEq(201, st, "proposal: $p")
            val (st2, a) = Api(server.url).post("/v1/proposals/${jsonNumber(p, "id")}/approve", approver, """{"reason":"checked"}""")
            expectEq(200, st2, "approve: $a")
            val (st3, r) = Api(server.url).post("/v1/publish", publisher, """{"reason":"kotlin sync test"}""")
            expectEq(200, st3, "publish: $r")
            return jsonNumber(r, "release")
        }

        Harness.test("a published entry reaches the shield; the next sync is up to date") {
            val s = shield ?: throw AssertionFailed("no shield")
            val release = publish(
                """{"action":"add","kind":"phone","value":"+8613800138000","category":"police_impersonation","risk":"high","reason":"confirmed"}""",
                bob,
            )
            expectEq(2L, release, "published release")
            expectEq(2uL, s.sync(transport).list.release, "synced release")
            val v = s.checkCall(number, Direction.INCOMING)
            expectEq(Action.BLOCK to Source.EXACT, v.action to v.source, "verdict")
            expectEq(Category.POLICE_IMPERSONATION, v.category, "category")
            expectEq(UpdatePath.UP_TO_DATE, s.sync(transport).list.path, "second sync")
        }

        Harness.test("a queued citizen report is uploaded by the next sync and the server has it") {
            val s = shield ?: throw AssertionFailed("no shield")
            val queued = s.queueReport(CitizenReport(Kind.PHONE, "139 0000 1111", Category.LOAN, "自称贷款客服，要求先交保证金", null))
            val summary = s.sync(transport)
            expectEq(1u, summary.reports.sent, "sent")
            val sent = s.reports().single { it.id == queued.id }.state
            val trackingId = (sent as? ReportState.Sent)?.trackingId ?: throw AssertionFailed("state $sent")
            expectEq(200, Api(server.url).get("/v1/reports/$trackingId").first, "the server knows the tracking id")
            expect(transport.sent.contains("POST /v1/reports")) { "requests: ${transport.sent}" }
            expectEq(null, s.reports().single { it.id == queued.id }.value, "the value is erased once sent")
        }

        Harness.test("checks from 4 JVM threads during a sync see the old list or the new one, never an error") {
            val s = shield ?: throw AssertionFailed("no shield")
            // Revoke the entry (an appeal, approved by the other analyst) and publish release 3.
            val (st, a) = Api(server.url).post("/v1/appeals", bob, """{"kind":"phone","value":"13800138000","reason":"number reassigned"}""")
            expectEq(201, st, "appeal: $a")
            val (st2, _) = Api(server.url).post("/v1/proposals/${jsonNumber(a, "id")}/approve", alice, "{}")
            expectEq(200, st2, "approve appeal")
            val (st3, r) = Api(server.url).post("/v1/publish", publisher, "{}")
            expectEq(200, st3, "publish: $r")

            val done = AtomicBoolean(false)
            val seen = ConcurrentLinkedQueue<Pair<Action, ULong>>()
            val errors = ConcurrentLinkedQueue<Throwable>()
            val counts = IntArray(4)
            val threads = (0 until 4).map { t ->
                Thread {
                    try {
                        do {
                            val v = s.checkCall(number, Direction.INCOMING)
                            seen.add(v.action to v.listVersion)
                            counts[t]++
                        } while (!done.get())
                    } catch (e: Throwable) {
                        errors.add(e)
                    }
                }.apply { start() }
            }
            val summary = try {
                s.sync(transport)
            } finally {
                done.set(true)
                threads.forEach { it.join(60_000) }
            }
            expect(threads.none { it.isAlive }) { "a checking thread did not finish" }
            expect(errors.isEmpty()) { "errors: ${errors.map { it.message }}" }
            expectEq(3uL, summary.list.release, "release")
            expect(counts.all { it > 0 }) { "counts ${counts.toList()}" }
            val allowed = setOf(Action.BLOCK to 2uL, Action.ALLOW to 3uL)
            val odd = seen.filter { it !in allowed }.toSet()
            expect(odd.isEmpty()) { "verdicts from neither state: $odd" }
            expectEq(Action.ALLOW to 3uL, s.checkCall(number, Direction.INCOMING).let { it.action to it.listVersion }, "after")
        }

        Harness.test("after the revoking sync the Call Directory drops the number (incrementally or by a reload)") {
            val s = shield ?: throw AssertionFailed("no shield")
            // A delta leaves a change list; a full snapshot install (the server's choice) does
            // not, and the SDK then says Reload. Either way the export no longer lists it.
            when (val update = s.callDirectoryChanges(2uL)) {
                is CallDirectoryUpdate.Incremental -> {
                    expectEq(listOf(8613800138000uL to null), update.changes.map { it.phoneNumber to it.verdict }, "changes")
                    expectEq(3uL, update.listVersion, "list version")
                }
                is CallDirectoryUpdate.Reload -> expectEq(3uL, update.listVersion, "list version")
            }
            val cursor = s.callDirectoryEntries()
            expect(cursor.nextBatch(1000u).none { it.phoneNumber == 8613800138000uL }) { "the revoked number is still exported" }
            expectEq(3uL, cursor.listVersion(), "cursor version")
            cursor.close()
        }

        shield?.close()
    }
}

// The binding layer seen from Kotlin: the right types, values, exceptions and threading
// behaviour. The lookup logic itself is tested in Rust (core/tests); here each check kind is
// exercised once through the FFI against a list imported by the real CLI.
package org.fraudshield.test

import org.fraudshield.core.Action
import org.fraudshield.core.CallDirectoryUpdate
import org.fraudshield.core.Category
import org.fraudshield.core.CitizenReport
import org.fraudshield.core.Direction
import org.fraudshield.core.Freshness
import org.fraudshield.core.HttpHeader
import org.fraudshield.core.HttpRequest
import org.fraudshield.core.HttpResponse
import org.fraudshield.core.Kind
import org.fraudshield.core.ReportState
import org.fraudshield.core.Risk
import org.fraudshield.core.ShieldException
import org.fraudshield.core.Source
import org.fraudshield.core.Transport
import org.fraudshield.core.TransportException
import org.fraudshield.core.UserList
import org.fraudshield.ffi.LogLevel
import org.fraudshield.ffi.Shield
import org.fraudshield.ffi.defaultPolicy
import org.fraudshield.ffi.setLogger
import java.io.File
import java.io.RandomAccessFile

fun shieldTests() {
    Harness.suite("open and status") {
        Harness.test("a new directory opens empty, never synced, with the built-in protected numbers") {
            Shield.open(Fixtures.tempDir("new").path, Fixtures.config()).use { shield ->
                val s = shield.status()
                expectEq(0uL, s.entries, "entries")
                expectEq(0uL, s.release, "release")
                expect(s.freshness is Freshness.Never) { "freshness ${s.freshness}" }
                expectEq(false, s.degraded, "degraded")
                expect(s.protected >= 6uL) { "protected ${s.protected}" }
                expectEq(64, s.stateDigest.length, "digest hex length")
                expectEq(0uL, s.reports.pending, "pending reports")
            }
        }

        Harness.test("an imported list shows its entries and version") {
            Fixtures.openImported("status").use { shield ->
                val s = shield.status()
                expectEq(9uL, s.entries, "entries")
                expectEq(1uL, s.release, "release")
            }
        }

        Harness.test("a bad server URL and a bad trust file are InvalidInput, naming no value") {
            val dir = Fixtures.tempDir("badconfig").path
            val e1 = expectThrows<ShieldException.InvalidInput> {
                Shield.open(dir, Fixtures.config().copy(serverUrl = "ftp://secret-host.example/"))
            }
            expect(!e1.reason.contains("secret-host")) { "reason repeats the URL: ${e1.reason}" }
            expectThrows<ShieldException.InvalidInput> {
                Shield.open(dir, Fixtures.config().copy(trustedKeys = "ed25519 nonsense"))
            }
        }

        Harness.test("a directory held by another Shield is a Storage error, and the logger hears of it") {
            val lines = MemoryLogger()
            setLogger(lines, LogLevel.DEBUG)
            try {
                val dir = Fixtures.tempDir("locked").path
                Shield.open(dir, Fixtures.config()).use {
                    expectThrows<ShieldException.Storage> { Shield.open(dir, Fixtures.config()) }
                }
                expect(lines.lines.any { it.first == LogLevel.WARN }) { "log: ${lines.lines}" }
                expect(lines.lines.none { it.second.contains(dir) }) { "a log line names the directory" }
            } finally {
                setLogger(null, LogLevel.ERROR)
            }
        }
    }

    Harness.suite("checks") {
        Fixtures.openImported("checks").use { shield ->
            Harness.test("an exact high-risk number: incoming blocked, outgoing warned, every field set") {
                val v = shield.checkCall("+86 138-0013-8000", Direction.INCOMING)
                expectEq(Action.BLOCK, v.action, "action")
                expectEq(Source.EXACT, v.source, "source")
                expectEq(Category.POLICE_IMPERSONATION, v.category, "category")
                expectEq(Risk.HIGH, v.risk, "risk")
                expectEq(4.toUByte(), v.reports, "report bucket of 12 reports")
                expectEq(1uL, v.listVersion, "list version")
                expectEq(Action.WARN, shield.checkCall("13800138000", Direction.OUTGOING).action, "outgoing")
            }

            Harness.test("medium and low exact entries warn") {
                expectEq(Action.WARN, shield.checkCall("0086 139 0000 1111", Direction.INCOMING).action, "medium")
                expectEq(Action.WARN, shield.checkCall("13700002222", Direction.INCOMING).action, "low")
            }

            Harness.test("prefix rules: one level softer, the source says prefix") {
                val high = shield.checkCall("+86 170 1234 5678", Direction.INCOMING)
                expectEq(Source.PREFIX to Action.WARN, high.source to high.action, "high prefix")
                val low = shield.checkCall("+86 171 1234 5678", Direction.INCOMING)
                expectEq(Source.PREFIX to Action.ALLOW, low.source to low.action, "low prefix")
                expectEq(Category.JOB, low.category, "category")
            }

            Harness.test("an unknown number is allowed with no entry fields; 110 is protected") {
                val v = shield.checkCall("13912345678", Direction.INCOMING)
                expectEq(Action.ALLOW to Source.NONE, v.action to v.source, "unknown")
                expect(v.category == null && v.risk == null && v.reports == null) { "entry fields set: $v" }
                expectEq(Source.PROTECTED, shield.checkCall("110", Direction.INCOMING).source, "110")
            }

            Harness.test("bank account, QQ and Alipay checks") {
                val bank = shield.checkBankAccount("6222021234567890123")
                expectEq(Action.BLOCK to Category.CUSTOMER_SERVICE, bank.action to bank.category, "bank")
                val qq = shield.checkQq("87654321")
                expectEq(Action.WARN to Category.REFUND, qq.action to qq.category, "qq")
                expectEq(Action.BLOCK, shield.checkAlipay("2088123412341234").action, "alipay user id")
                val mail = shield.checkAlipay("FRAUD@example.com")
                expectEq(Source.EXACT to Risk.LOW, mail.source to mail.risk, "alipay e-mail, case-folded")
                expectEq(Action.WARN, shield.check(Kind.QQ, "87654321", Direction.INCOMING).action, "generic check")
                expectEq("+8613800138000", shield.canonical(Kind.PHONE, "138 0013 8000"), "canonical")
            }

            Harness.test("bad input throws InvalidInput with a reason that never repeats the value") {
                val cases = listOf<Pair<String, () -> Unit>>(
                    "4930xyz" to { shield.checkCall("4930xyz", Direction.INCOMING) },
                    "0123" to { shield.checkQq("0123") },
                    "98765" to { shield.checkBankAccount("98765") },
                    "not an account" to { shield.checkAlipay("not an account") },
                    "" to { shield.checkCall("", Direction.OUTGOING) },
                )
                for ((value, call) in cases) {
                    val e = expectThrows<ShieldException.InvalidInput> { call() }
                    expect(e.reason.isNotBlank()) { "empty reason" }
                    expect(value.isEmpty() || !e.reason.contains(value)) { "reason repeats the value: ${e.reason}" }
                }
            }

            Harness.test("a message: findings in text order with UTF-16 spans and verdicts") {
                val text = "😀您好，公安局通知：请拨打 138-0013-8000，或加QQ 87654321 办理退款𝄞"
                val found = shield.checkMessage(text)
                expectEq(listOf(Kind.PHONE, Kind.QQ), found.map { it.kind }, "kinds")
                val phone = found[0]
                expectEq("138-0013-8000", text.substring(phone.startUtf16.toInt(), phone.endUtf16.toInt()), "phone span")
                expectEq("+8613800138000", phone.canonical, "canonical")
                expectEq(Action.BLOCK, phone.verdict.action, "phone verdict")
                val qq = found[1]
                expectEq("87654321", text.substring(qq.startUtf16.toInt(), qq.endUtf16.toInt()), "qq span")
                expectEq(Action.WARN, qq.verdict.action, "qq verdict")
                expect(shield.checkMessage("今天天气不错").isEmpty()) { "findings in a clean message" }
            }
        }
    }

    Harness.suite("user lists and protected numbers") {
        Fixtures.openImported("lists").use { shield ->
            Harness.test("block, allow, remove: the user's lists win over the list, in that order") {
                val unknown = "+86 135 5555 6666"
                shield.block(Kind.PHONE, unknown)
                expectEq(UserList.BLOCK, shield.userList(Kind.PHONE, "13555556666"), "on the block list")
                val blocked = shield.checkCall(unknown, Direction.INCOMING)
                expectEq(Action.BLOCK to Source.USER_BLOCK, blocked.action to blocked.source, "blocked")
                expectEq(Action.WARN, shield.checkCall(unknown, Direction.OUTGOING).action, "outgoing to a blocked number")

                shield.allow(Kind.PHONE, "13800138000")
                val allowed = shield.checkCall("13800138000", Direction.INCOMING)
                expectEq(Action.ALLOW to Source.USER_ALLOW, allowed.action to allowed.source, "allowed")
                expectEq(true, shield.removeFromUserLists(Kind.PHONE, "13800138000"), "removed")
                expectEq(false, shield.removeFromUserLists(Kind.PHONE, "13800138000"), "removed twice")
                expectEq(Source.EXACT, shield.checkCall("13800138000", Direction.INCOMING).source, "back to the list")
                expectEq(1uL, shield.status().userBlocked, "status counts the block list")
            }

            Harness.test("a protected number is allowed even when blocked; built-ins cannot be removed") {
                shield.protect(Kind.PHONE, "13900001111")
                shield.block(Kind.PHONE, "13900001111")
                expectEq(Source.PROTECTED, shield.checkCall("13900001111", Direction.INCOMING).source, "protected")
                expectEq(true, shield.unprotect(Kind.PHONE, "13900001111"), "unprotect")
                expectThrows<ShieldException.InvalidInput> { shield.unprotect(Kind.PHONE, "110") }
            }
        }
    }

    Harness.suite("read-only open, settings lists, policy switch") {
        Harness.test("a read-only shield answers beside the owner and refuses writes") {
            val dir = Fixtures.importedDir("readonly")
            expectThrows<ShieldException.Storage> { Shield.openReadOnly(Fixtures.tempDir("nolist").path, Fixtures.config()) }
            Shield.open(dir.path, Fixtures.config()).use { owner ->
                Shield.openReadOnly(dir.path, Fixtures.config()).use { reader ->
                    expectEq(true to false, reader.isReadOnly() to owner.isReadOnly(), "isReadOnly")
                    expectEq(Action.BLOCK, reader.checkCall("13800138000", Direction.INCOMING).action, "lookup")
                    expectEq(9uL, reader.status().entries, "status")
                    expectThrows<ShieldException.Storage> { reader.block(Kind.PHONE, "13555556666") }
                }
            }
        }

        Harness.test("user list and protected entries for a settings screen; setPolicy applies at once") {
            Fixtures.openImported("settings").use { shield ->
                shield.block(Kind.QQ, "87654321")
                shield.allow(Kind.PHONE, "13800138000")
                expectEq(
                    listOf(Triple(Kind.PHONE, "+8613800138000", UserList.ALLOW), Triple(Kind.QQ, "87654321", UserList.BLOCK)),
                    shield.userListEntries().map { Triple(it.kind, it.canonical, it.list) },
                    "user lists",
                )
                val protected = shield.protectedEntries()
                expect(protected.any { it.canonical == "110" && it.builtin }) { "110 not listed as built-in" }
                expectEq(Action.WARN, shield.checkCall("13900001111", Direction.INCOMING).action, "default policy")
                shield.setPolicy(defaultPolicy().let { it.copy(exactIncoming = it.exactIncoming.copy(medium = Action.BLOCK)) })
                expectEq(Action.BLOCK, shield.checkCall("13900001111", Direction.INCOMING).action, "strict policy")
            }
        }
    }

    Harness.suite("reports") {
        Harness.test("without a reporter token a report is refused; with one it is queued pending") {
            val dir = Fixtures.tempDir("reports").path
            Shield.open(dir, Fixtures.config()).use { shield ->
                val report = CitizenReport(Kind.PHONE, "138 0013 8000", Category.POLICE_IMPERSONATION, "自称警察要求转账", null)
                expectThrows<ShieldException.InvalidInput> { shield.queueReport(report) }
            }
            Shield.open(dir, Fixtures.config().copy(reporterToken = "reporter-token")).use { shield ->
                val report = CitizenReport(Kind.PHONE, "138 0013 8000", Category.POLICE_IMPERSONATION, "自称警察要求转账", null)
                val queued = shield.queueReport(report)
                expect(queued.state is ReportState.Pending) { "state ${queued.state}" }
                expectEq(listOf(queued.id), shield.reports().map { it.id }, "outbox")
                expectEq(1uL, shield.status().reports.pending, "pending count")
                expectThrows<ShieldException.InvalidInput> { shield.queueReport(report.copy(text = "")) }
                expectThrows<ShieldException.InvalidInput> { shield.queueReport(report.copy(value = "12")) }
                expectEq(true, shield.removeReport(queued.id), "removed")
            }
        }
    }

    Harness.suite("call directory") {
        Harness.test("entries come out ascending in batches, user blocks included, no prefixes") {
            Fixtures.openImported("calldir").use { shield ->
                shield.block(Kind.PHONE, "+1 202 555 0100")
                shield.block(Kind.PHONE, "+86 130 0000 0000")
                val cursor = shield.callDirectoryEntries()
                val all = mutableListOf<ULong>()
                var batches = 0
                while (true) {
                    val batch = cursor.nextBatch(2u)
                    if (batch.isEmpty()) break
                    expect(batch.size <= 2) { "batch of ${batch.size}" }
                    all += batch.map { it.phoneNumber }
                    batches++
                }
                val expected = listOf(12025550100uL, 8613000000000uL, 8613700002222uL, 8613800138000uL, 8613900001111uL)
                expectEq(expected, all, "numbers")
                expectEq(3, batches, "batches")
                expectEq(1uL, cursor.listVersion(), "cursor list version")
                cursor.close()
            }
        }

        Harness.test("changes since the current version are empty; since an unknown one, a reload") {
            Fixtures.openImported("calldir-changes").use { shield ->
                val same = shield.callDirectoryChanges(1uL)
                expect(same is CallDirectoryUpdate.Incremental && same.changes.isEmpty()) { "since 1: $same" }
                val future = shield.callDirectoryChanges(99uL)
                expect(future is CallDirectoryUpdate.Reload) { "since 99: $future" }
            }
        }
    }

    Harness.suite("damage") {
        Harness.test("a damaged list file opens degraded instead of answering from it") {
            val dir = Fixtures.importedDir("damage")
            Shield.open(dir.path, Fixtures.config()).use { it.verify() }
            val bases = dir.listFiles { f: File -> f.name.startsWith("base-") && f.name.endsWith(".fst") }.orEmpty()
            expect(bases.isNotEmpty()) { "no base file in ${dir.listFiles()?.map { it.name }}" }
            for (base in bases) {
                RandomAccessFile(base, "rw").use { f -> f.setLength(f.length() / 2) }
            }
            Shield.open(dir.path, Fixtures.config()).use { shield ->
                expectEq(true, shield.status().degraded, "degraded")
                val v = shield.checkCall("+86 138 0013 8000", Direction.INCOMING)
                expectEq(Source.LIST_UNAVAILABLE, v.source, "a listed number is not answered from a damaged list")
                expectEq(Source.PROTECTED, shield.checkCall("110", Direction.INCOMING).source, "protected still answers")
                expectThrows<ShieldException.Degraded> { shield.verify() }
            }
        }
    }

    Harness.suite("policy") {
        Harness.test("a stricter policy blocks medium-risk entries; outgoing still only warns") {
            val strict = defaultPolicy().let { p -> p.copy(exactIncoming = p.exactIncoming.copy(medium = Action.BLOCK)) }
            Shield.open(Fixtures.importedDir("policy").path, Fixtures.config().copy(policy = strict)).use { shield ->
                expectEq(Action.BLOCK, shield.checkCall("13900001111", Direction.INCOMING).action, "incoming")
                expectEq(Action.WARN, shield.checkCall("13900001111", Direction.OUTGOING).action, "outgoing")
            }
        }
    }
}

/** A transport scripted in Kotlin: answers every request with [answer]. */
class ScriptedTransport(private val answer: (HttpRequest) -> HttpResponse) : Transport {
    val urls = java.util.concurrent.CopyOnWriteArrayList<String>()
    override fun send(request: HttpRequest): HttpResponse {
        urls.add(request.url)
        return answer(request)
    }
}

fun transportTests() = Harness.suite("host transport") {
    Harness.test("a Kotlin transport's connection error is a Network exception; the list keeps serving") {
        Fixtures.openImported("netfail").use { shield ->
            val t = ScriptedTransport { throw TransportException.Connection("refused") }
            expectThrows<ShieldException.Network> { shield.sync(t) }
            expectEq(listOf("https://lists.invalid/cn/v1/manifest"), t.urls.toList(), "requests")
            expectEq(Action.BLOCK, shield.checkCall("13800138000", Direction.INCOMING).action, "still serving")
        }
    }

    Harness.test("an unexpected exception inside the transport is a Network exception, not a crash") {
        Fixtures.openImported("netbug").use { shield ->
            val t = ScriptedTransport { throw IllegalStateException("bug in the app's HTTP code") }
            val e = expectThrows<ShieldException.Network> { shield.sync(t) }
            expect(!e.reason.contains("bug in the app")) { "the exception text leaked: ${e.reason}" }
        }
    }

    Harness.test("503 with Retry-After is a Backoff with its seconds, honoured by the next sync") {
        Shield.open(Fixtures.tempDir("backoff").path, Fixtures.config()).use { shield ->
            val t = ScriptedTransport { HttpResponse(503u, listOf(HttpHeader("Retry-After", "120")), ByteArray(0)) }
            val e = expectThrows<ShieldException.Backoff> { shield.sync(t) }
            expectEq(120uL, e.seconds, "seconds")
            expectThrows<ShieldException.Backoff> { shield.sync(t) }
            expectEq(1, t.urls.size, "no request during the backoff")
            expect(shield.nextSyncDelaySecs(60uL) >= 100uL) { "next delay ignores the backoff" }
        }
    }
}

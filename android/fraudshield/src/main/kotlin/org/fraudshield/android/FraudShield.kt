package org.fraudshield.android

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.withContext
import org.fraudshield.core.CallDirectoryUpdate
import org.fraudshield.core.CitizenReport
import org.fraudshield.core.Direction
import org.fraudshield.core.Kind
import org.fraudshield.core.MessageFinding
import org.fraudshield.core.QueuedReport
import org.fraudshield.core.ShieldConfig
import org.fraudshield.core.ShieldException
import org.fraudshield.core.ShieldStatus
import org.fraudshield.core.SyncSummary
import org.fraudshield.core.Transport
import org.fraudshield.core.UserList
import org.fraudshield.core.Verdict
import org.fraudshield.ffi.Shield
import java.io.Closeable
import java.io.File

/**
 * The idiomatic Kotlin face of the SDK: everything that touches the disk or the network is a
 * `suspend` function running on [io] (Dispatchers.IO by default), lookups are plain functions
 * (lock-free, microseconds: fine on the main thread and in a CallScreeningService), and
 * [status] is a [StateFlow] refreshed after every change this object makes.
 *
 * Open one per process (the state directory is locked by its owner) and share it; it is
 * thread-safe. All methods throw [ShieldException] subclasses on failure.
 */
class FraudShield private constructor(
    private val shield: Shield,
    private val io: CoroutineDispatcher,
    initialStatus: ShieldStatus,
) : Closeable {
    private val _status = MutableStateFlow(initialStatus)

    /** The latest status: entries, release, freshness, degraded, reports. */
    val status: StateFlow<ShieldStatus> = _status.asStateFlow()

    companion object {
        /** Opens (creating on first use) the state directory [dir]. Disk I/O, on [io]. */
        suspend fun open(
            dir: File,
            config: ShieldConfig,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): FraudShield = withContext(io) {
            val shield = Shield.open(dir.path, config)
            FraudShield(shield, io, shield.status())
        }
    }

    // ---- Lookups: lock-free, no I/O -------------------------------------------------------

    /** The verdict for a call. Lock-free; throws [ShieldException.InvalidInput] for a malformed number. */
    fun checkCall(number: String, direction: Direction): Verdict = shield.checkCall(number, direction)

    /** The verdict for a call, or `null` for a number that cannot be checked (hidden, malformed). */
    fun checkCallOrNull(number: String?, direction: Direction): Verdict? =
        number?.let { runCatching { shield.checkCall(it, direction) }.getOrNull() }

    /** The verdict for a bank account, QQ number or Alipay account. Lock-free. */
    fun check(kind: Kind, value: String): Verdict = shield.check(kind, value, Direction.INCOMING)

    /** Every identifier in a message, with verdicts and UTF-16 spans (String indices). Lock-free. */
    fun checkMessage(text: String): List<MessageFinding> = shield.checkMessage(text)

    /** Which of the user's lists an identifier is on. Lock-free. */
    fun userList(kind: Kind, value: String): UserList? = shield.userList(kind, value)

    // ---- Writes: one small durable write each -----------------------------------------------

    suspend fun block(kind: Kind, value: String) = write { shield.block(kind, value) }
    suspend fun allow(kind: Kind, value: String) = write { shield.allow(kind, value) }
    suspend fun removeFromUserLists(kind: Kind, value: String): Boolean = write { shield.removeFromUserLists(kind, value) }
    suspend fun protect(kind: Kind, value: String) = write { shield.protect(kind, value) }
    suspend fun unprotect(kind: Kind, value: String): Boolean = write { shield.unprotect(kind, value) }

    /** Queues a citizen report; it is sent at the next [sync]. */
    suspend fun queueReport(report: CitizenReport): QueuedReport = write { shield.queueReport(report) }
    suspend fun reports(): List<QueuedReport> = withContext(io) { shield.reports() }
    suspend fun retryReport(id: ULong): Boolean = write { shield.retryReport(id) }
    suspend fun removeReport(id: ULong): Boolean = write { shield.removeReport(id) }

    // ---- Network ----------------------------------------------------------------------------

    /**
     * Sends the queued reports and brings the list up to date through [transport]. Network
     * and disk I/O on [io]. Throws [ShieldException.Backoff] (retry after its seconds),
     * [ShieldException.Network], [ShieldException.VerificationFailed], [ShieldException.Storage];
     * the status flow is refreshed either way.
     */
    suspend fun sync(transport: Transport): SyncSummary = write { shield.sync(transport) }

    /** Seconds until the next sync should run (jittered; honours the server's backoff). */
    suspend fun nextSyncDelaySecs(baseSecs: ULong): ULong = withContext(io) { shield.nextSyncDelaySecs(baseSecs) }

    /** Checks the whole list against its digest (seconds on a large list). */
    suspend fun verify() = write { shield.verify() }

    /** Re-reads the status into [status]. */
    suspend fun refreshStatus(): ShieldStatus = withContext(io) { shield.status().also { _status.value = it } }

    /** What changed for a Call Directory style consumer since [listVersion]. */
    suspend fun callDirectoryChanges(listVersion: ULong): CallDirectoryUpdate =
        withContext(io) { shield.callDirectoryChanges(listVersion) }

    /** Runs a disk/network operation on [io], then refreshes the status flow, even on failure. */
    private suspend fun <T> write(block: () -> T): T = withContext(io) {
        try {
            block()
        } finally {
            runCatching { _status.value = shield.status() }
        }
    }

    /** Releases the native object (also done by the garbage collector eventually). */
    override fun close() = shield.close()
}

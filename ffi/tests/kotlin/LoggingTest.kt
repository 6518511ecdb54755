package org.fraudshield.test

import org.fraudshield.core.Direction
import org.fraudshield.core.ShieldException
import org.fraudshield.ffi.LogLevel
import org.fraudshield.ffi.Logger
import org.fraudshield.ffi.Shield
import org.fraudshield.ffi.sdkVersion
import org.fraudshield.ffi.setLogger
import java.util.concurrent.CopyOnWriteArrayList

/** Collects log lines in memory. */
class MemoryLogger : Logger {
    val lines = CopyOnWriteArrayList<Pair<LogLevel, String>>()
    override fun log(level: LogLevel, message: String) {
        lines.add(level to message)
    }
}

/** A broken logger: throws, and its message holds a phone number. */
class ThrowingLogger : Logger {
    var calls = 0
    override fun log(level: LogLevel, message: String) {
        calls++
        throw IllegalStateException("logger broke on +8613800138000")
    }
}

fun loggingTests() = Harness.suite("logging") {
    Harness.test("sdkVersion is the crate version") {
        expect(Regex("""\d+\.\d+\.\d+""").matches(sdkVersion())) { "got ${sdkVersion()}" }
    }

    // uniffi turns the exception into a Rust panic whose message holds the exception's text; the
    // SDK swallows it (the line is lost), so neither the call fails nor the text comes back.
    Harness.test("a logger that throws breaks no call and its text never comes back") {
        val logger = ThrowingLogger()
        setLogger(logger, LogLevel.DEBUG)
        try {
            val dir = Fixtures.tempDir("throwing-logger").path
            Shield.open(dir, Fixtures.config()).use {
                // The second open fails (the directory is held) and logs a warning on the way.
                val e = expectThrows<ShieldException.Storage> { Shield.open(dir, Fixtures.config()) }
                expect(logger.calls > 0) { "the logger was never called" }
                expect(!e.toString().contains("13800138000")) { "the logger's text came back: $e" }
                // The shield still answers.
                it.checkCall("+86 138 0013 8000", Direction.INCOMING)
            }
        } finally {
            setLogger(null, LogLevel.ERROR)
        }
    }
}

package org.fraudshield.test

import org.fraudshield.ffi.LogLevel
import org.fraudshield.ffi.Logger
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

fun loggingTests() = Harness.suite("logging") {
    Harness.test("sdkVersion is the crate version") {
        expect(Regex("""\d+\.\d+\.\d+""").matches(sdkVersion())) { "got ${sdkVersion()}" }
    }
}

// The Kotlin side of the FFI timing (scripts/kotlin-test.sh --bench): p50 of one checkCall
// across the FFI over 100k calls, against the `mobile` library, on the same list and number as
// ffi/examples/check_p50.rs. A measurement, not a test: it prints numbers and never fails on
// them.
package org.fraudshield.test.bench

import org.fraudshield.core.Action
import org.fraudshield.core.Direction
import org.fraudshield.ffi.Shield
import org.fraudshield.test.Fixtures

fun main() {
    val calls = 100_000
    val dir = Fixtures.importedDir("bench")
    try {
        Shield.open(dir.path, Fixtures.config()).use { shield ->
            val number = "+86 138 0013 8000"
            repeat(20_000) { shield.checkCall(number, Direction.INCOMING) }
            val nanos = LongArray(calls)
            for (i in 0 until calls) {
                val start = System.nanoTime()
                val v = shield.checkCall(number, Direction.INCOMING)
                nanos[i] = System.nanoTime() - start
                check(v.action == Action.BLOCK)
            }
            nanos.sort()
            println("kotlin  checkCall  p50 %6d ns  p90 %6d ns  (%d calls across the FFI: JNA + uniffi lowering/lifting)"
                .format(nanos[calls / 2], nanos[calls * 9 / 10], calls))
        }
    } finally {
        Fixtures.cleanUp()
    }
}

// The Kotlin side of the FFI timing (scripts/kotlin-test.sh --bench), against the `mobile`
// library, on the same list and number as ffi/examples/check_p50.rs (run right after it by the
// script, so both figures come from the same run). A measurement, not a test: it prints numbers
// and never fails on them.
//
// Each row: 50k warm-up calls (the JIT compiles the call path), then 100k calls timed one by
// one (p50, p99) and the mean of the same 100k from one clock reading around the loop (no
// per-call clock cost). The rows split a check into its parts:
//   isReadOnly  a method call with nothing to convert: uniffi's handle clone + the call (two
//               JNA calls, each with a call-status structure)
//   sdkVersion  a free function returning a string: one call + lifting and freeing a buffer
//   checkCall   the real check: handle clone, the number and the direction lowered into two
//               Rust buffers (two more JNA calls), the call, the verdict lifted and freed
package org.fraudshield.test.bench

import org.fraudshield.core.Action
import org.fraudshield.core.Direction
import org.fraudshield.ffi.Shield
import org.fraudshield.ffi.sdkVersion
import org.fraudshield.test.Fixtures

private const val WARM_UP = 50_000
private const val CALLS = 100_000

private fun row(name: String, call: () -> Unit) {
    repeat(WARM_UP) { call() }
    val nanos = LongArray(CALLS)
    for (i in 0 until CALLS) {
        val start = System.nanoTime()
        call()
        nanos[i] = System.nanoTime() - start
    }
    val loopStart = System.nanoTime()
    repeat(CALLS) { call() }
    val mean = (System.nanoTime() - loopStart) / CALLS
    nanos.sort()
    println(
        "kotlin  %-11s p50 %7d ns  p99 %7d ns  mean %7d ns  (%d calls across the FFI)"
            .format(name, nanos[CALLS / 2], nanos[CALLS * 99 / 100], mean, CALLS),
    )
}

fun main() {
    val dir = Fixtures.importedDir("bench")
    try {
        Shield.open(dir.path, Fixtures.config()).use { shield ->
            val number = "+86 138 0013 8000"
            check(shield.checkCall(number, Direction.INCOMING).action == Action.BLOCK)
            var sink = 0
            row("isReadOnly") { if (shield.isReadOnly()) sink++ }
            row("sdkVersion") { sink += sdkVersion().length }
            row("checkCall") { if (shield.checkCall(number, Direction.INCOMING).action == Action.BLOCK) sink++ }
            check(sink > 0)
        }
    } finally {
        Fixtures.cleanUp()
    }
}

// Entry point of the host-JVM tests (scripts/kotlin-test.sh). Each suite file adds its tests.
package org.fraudshield.test

import kotlin.system.exitProcess

fun main() {
    try {
        loggingTests()
        shieldTests()
        decisionTests()
        transportTests()
        syncTests()
    } finally {
        Fixtures.cleanUp()
    }
    println("${Harness.passed} passed, ${Harness.failed} failed")
    exitProcess(if (Harness.failed == 0 && Harness.passed > 0) 0 else 1)
}

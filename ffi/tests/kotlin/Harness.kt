// A small test runner for the host-JVM tests: no JUnit jar is needed, so kotlinc + java
// are the whole toolchain (see scripts/kotlin-test.sh). Each test is a named lambda; a thrown
// exception or a failed `expect` fails it; the last line printed is `N passed, N failed`.
package org.fraudshield.test

class AssertionFailed(message: String) : Exception(message)

object Harness {
    var passed = 0
        private set
    var failed = 0
        private set
    private var suite = ""

    fun suite(name: String, body: () -> Unit) {
        suite = name
        body()
    }

    fun test(name: String, body: () -> Unit) {
        try {
            body()
            passed++
            println("ok    $suite: $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL  $suite: $name\n      ${e::class.qualifiedName}: ${e.message}")
            e.stackTrace.take(6).forEach { println("        at $it") }
        }
    }
}

fun expect(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionFailed(message())
}

fun <T> expectEq(expected: T, actual: T, what: String = "value") {
    if (expected != actual) throw AssertionFailed("$what: expected <$expected>, got <$actual>")
}

/** Runs [block], which must throw an [E]; returns it. */
inline fun <reified E : Throwable> expectThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionFailed("expected ${E::class.simpleName}, got ${e::class.qualifiedName}: ${e.message}")
    }
    throw AssertionFailed("expected ${E::class.simpleName}, nothing was thrown")
}
